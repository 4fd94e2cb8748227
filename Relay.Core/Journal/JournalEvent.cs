using Relay.Protocol;

namespace Relay.Core.Journal;

/// <summary>
/// One committed row of <c>relay.stream_events</c>, immutable and shared by every reader of its topic. Watermarks are
/// gap-free per topic and their order is commit order.
/// </summary>
/// <param name="Topic">The topic.</param>
/// <param name="Watermark">The topic's watermark of this event.</param>
/// <param name="DocKey">The document.</param>
/// <param name="DocVersion">The document's version this event carries.</param>
/// <param name="OrgId">The owning organisation; null for a global document.</param>
/// <param name="Payload">The document as UTF-8 JSON; null for a tombstone and in pointer mode until resolved.</param>
/// <param name="PayloadHash">SHA-256 of the canonical payload (RFC 8785); null for a tombstone.</param>
/// <param name="Tombstone">The document was deleted.</param>
/// <param name="CommittedAt">When the writing transaction committed (or, read back from the journal, started).</param>
public sealed record JournalEvent(
    string Topic,
    long Watermark,
    string DocKey,
    long DocVersion,
    string? OrgId,
    byte[]? Payload,
    byte[]? PayloadHash,
    bool Tombstone,
    DateTimeOffset CommittedAt)
{
    /// <summary>A pointer-mode event: the journal holds no payload, so the document is read when delivered.</summary>
    public bool IsPointer => Payload is null && !Tombstone;

    /// <summary>Approximate bytes this event holds, for the bounds of rings and batches.</summary>
    public int Size => 96 + (Topic.Length + DocKey.Length + (OrgId?.Length ?? 0)) * 2 + (Payload?.Length ?? 0) + (PayloadHash?.Length ?? 0);

    /// <summary>
    /// Most bytes of events one batch holds in memory, payloads sent omitted included: 16 MiB, eight batches' worth of
    /// what a batch may send. A batch is cut on <see cref="SentSize"/>, so that payloads the client fetches over HTTP do
    /// not shrink it to a few updates, and on this, so that such payloads cannot make it hold hundreds of megabytes.
    /// </summary>
    public const int MaxHeldBytesPerBatch = 16 * 1024 * 1024;

    /// <summary>
    /// Bytes this event adds to the bound of a batch as sent: <see cref="Size"/>, except that a payload too large to
    /// send inline (over <see cref="ProtocolLimits.MaxInlinePayloadBytes"/>: the client fetches it) counts 0.
    /// </summary>
    public int SentSize => Payload is { Length: > ProtocolLimits.MaxInlinePayloadBytes } ? Size - Payload.Length : Size;
}
