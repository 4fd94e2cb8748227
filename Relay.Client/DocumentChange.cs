namespace Relay.Client;

/// <summary>A change applied to the cache: an update, a deletion, or a document read while re-hydrating.</summary>
/// <param name="Topic">The document's topic.</param>
/// <param name="Document">
/// The document as now held; for a deletion a tombstone (<see cref="CachedDocument.Deleted"/>): of the version deleted, or,
/// for a document a re-hydration no longer finds, of the version that was held.
/// </param>
/// <param name="Watermark">The update's watermark, or the list snapshot's watermark for a re-hydrated document.</param>
public sealed record DocumentChange(string Topic, CachedDocument Document, long Watermark);
