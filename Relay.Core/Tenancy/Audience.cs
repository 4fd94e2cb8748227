using Relay.Core.Journal;

namespace Relay.Core.Tenancy;

/// <summary>
/// Who receives what is delivered: the one place that decides whether a document may reach a client. The WebSocket
/// path, the shared frame cache and HTTP hydration all ask it, always about the document actually delivered (for a
/// pointer topic, the resolved document, never only the journal row).
/// </summary>
public sealed class Audience
{
    private Audience(string? orgId, string key)
    {
        OrgId = orgId;
        Key = key;
    }

    /// <summary>Sees every document: operator tools and tests, never a client.</summary>
    public static Audience Everyone { get; } = new(null, "*");

    /// <summary>The organisation whose documents this audience sees, with global ones; null for <see cref="Everyone"/>.</summary>
    public string? OrgId { get; }

    /// <summary>Identifies the audience: two subscribers with the same key are shown the same documents.</summary>
    public string Key { get; }

    /// <summary>
    /// An organisation's clients: they see their organisation's documents and global ones (null org, which only topics
    /// created with <c>require_org = false</c> hold).
    /// </summary>
    public static Audience Of(string orgId)
    {
        ArgumentException.ThrowIfNullOrEmpty(orgId);
        return new Audience(orgId, "org:" + orgId);
    }

    /// <summary>Whether a document owned by <paramref name="orgId"/> may be delivered to this audience.</summary>
    public bool CanSee(string? orgId) => OrgId is null || orgId is null || orgId == OrgId;

    /// <summary>
    /// What this audience receives for a journal event: the event as delivered (<paramref name="delivered"/>: for a
    /// pointer event, its resolved document) when it may see that document; a tombstone when the journal row was its
    /// own but the document under that doc_key now belongs to another organisation, so its copy is gone; nothing when
    /// the row was never its.
    /// </summary>
    /// <param name="row">The journal row.</param>
    /// <param name="delivered">The event as it would be delivered; the row itself for an inline event.</param>
    public JournalEvent? Deliverable(JournalEvent row, JournalEvent delivered) =>
        !CanSee(row.OrgId) ? null
        : delivered.Tombstone || CanSee(delivered.OrgId) ? delivered
        : row with { Tombstone = true, Payload = null, PayloadHash = null };

    /// <inheritdoc />
    public override string ToString() => Key;
}
