namespace Relay.Protocol.Hydration;

/// <summary>The body of <c>GET /sync/v1/list/{topic}?after=&amp;limit=</c>: one page of a topic's documents, in key order.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Watermark">The topic's head in the page's snapshot: subscribing after it loses nothing.</param>
/// <param name="Documents">The documents visible to the caller whose keys follow <c>after</c>.</param>
/// <param name="Next">The <c>after</c> of the next page; null on the last page.</param>
public sealed record DocumentPage(string Topic, long Watermark, IReadOnlyList<HydratedDocument> Documents, string? Next);
