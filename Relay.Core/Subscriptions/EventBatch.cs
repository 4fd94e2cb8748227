using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>What a subscription hands over at once: the next events of one topic, in watermark order.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Events">The events the subscriber may see, resolved (pointer mode) and filtered; may be empty.</param>
/// <param name="Through">
/// The watermark the subscriber has been brought up to by this batch, counting events filtered out or skipped, so
/// that quiet or filtered topics still advance the client's cursor.
/// </param>
/// <param name="Live">
/// False while replaying what was committed before the subscription first reached the head (or after it fell behind);
/// true for live pushes.
/// </param>
/// <param name="CaughtUp">This batch reaches the topic's head as this relay knows it.</param>
public sealed record EventBatch(string Topic, IReadOnlyList<JournalEvent> Events, long Through, bool Live, bool CaughtUp);
