using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>What a subscription hands over at once: the next events of one topic, in watermark order.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Events">The events the subscriber may see, resolved (pointer mode) and filtered; may be empty.</param>
/// <param name="Through">
/// The watermark the subscriber has been brought up to by this batch, counting events filtered out or skipped, so
/// that quiet or filtered topics still advance the client's cursor.
/// </param>
/// <param name="Phase">Replay, the batch that ends the replay, or live.</param>
public sealed record EventBatch(string Topic, IReadOnlyList<JournalEvent> Events, long Through, SubscriptionPhase Phase);
