namespace Relay.Client;

/// <summary>
/// One document as the client holds it: the newest version it has seen of <see cref="DocKey"/>. A deleted
/// document is kept as a tombstone (<see cref="Deleted"/>, no payload) so that an older update arriving
/// later cannot bring it back; <see cref="DocumentCache.Documents"/> does not list tombstones, <see cref="DocumentCache.Entries"/> does.
/// </summary>
/// <param name="DocKey">The document's key, unique across the database.</param>
/// <param name="DocVersion">The version held.</param>
/// <param name="Payload">The document's JSON as UTF-8 (PostgreSQL's <c>jsonb</c> text); empty for a tombstone.</param>
/// <param name="PayloadHash">SHA-256 of the payload's canonical JSON (RFC 8785); empty for a tombstone.</param>
/// <param name="Deleted">Whether the document was deleted at <see cref="DocVersion"/>.</param>
public sealed record CachedDocument(string DocKey, long DocVersion, ReadOnlyMemory<byte> Payload, ReadOnlyMemory<byte> PayloadHash, bool Deleted)
{
    /// <summary>A tombstone: <paramref name="docKey"/> was deleted at <paramref name="docVersion"/>.</summary>
    public static CachedDocument Tombstone(string docKey, long docVersion) => new(docKey, docVersion, default, default, Deleted: true);
}
