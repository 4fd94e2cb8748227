using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Tenancy;
using Relay.Core.Topics;

namespace Relay.Core.Subscriptions;

/// <summary>
/// Opens subscriptions, and holds what each one needs: the topic logs, the journal reads for catching up, the resolver
/// for pointer documents and the batch bounds.
/// </summary>
/// <param name="logs">The topic logs the feed fills.</param>
/// <param name="journal">Reads a topic's head, epoch and retained window when the log cannot answer.</param>
/// <param name="catchUp">Journal reads for subscribers the ring cannot serve.</param>
/// <param name="resolver">Reads pointer-mode documents.</param>
/// <param name="options">Batch bounds.</param>
/// <param name="metrics">Counts fell-behind episodes.</param>
public sealed class SubscriptionSource(
    TopicLogs logs, JournalReader journal, CatchUpReads catchUp, PointerResolver resolver, TopicLogOptions options, RelayMetrics metrics)
{
    internal CatchUpReads CatchUp => catchUp;

    internal JournalReader Journal => journal;

    internal PointerResolver Resolver => resolver;

    internal TopicLogOptions Options => options;

    internal RelayMetrics Metrics => metrics;

    /// <summary>
    /// Opens a subscription after <paramref name="after"/>. A resume point at this relay's head, of the log's epoch,
    /// needs no database round trip (a reconnect storm of clients that were live costs PostgreSQL nothing); any other,
    /// and a subscription from the start, is checked against the topic's row, which is also how this relay learns of a
    /// changed epoch before its feed reconnects.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="after">The last watermark the subscriber has; 0 for everything.</param>
    /// <param name="afterEpoch">The epoch of <paramref name="after"/>, as the subscriber stored it; null or empty when unknown (not checked).</param>
    /// <param name="audience">Who receives the documents (tenancy), decided on each document as delivered.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="UnknownTopicException">No such topic.</exception>
    /// <exception cref="StaleCursorException">
    /// <paramref name="after"/> is before the retained window, ahead of the head, or of another epoch.
    /// </exception>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<Subscription> OpenAsync(string topic, long after, string? afterEpoch, Audience audience, CancellationToken cancellationToken = default)
    {
        // Only at the head: a resume point behind it may have been pruned from the journal (relay.prune), which the log
        // cannot know, and the contract sends such a subscriber to re-hydrate even while the ring still holds the events.
        if (after > 0 && logs.Find(topic) is { Epoch: { } epoch } known && (string.IsNullOrEmpty(afterEpoch) || afterEpoch == epoch) && after == known.Head)
        {
            return new Subscription(this, known, after, after, epoch, audience);
        }
        var state = await journal.ReadTopicAsync(topic, cancellationToken) ?? throw new UnknownTopicException(topic);
        // Taken in first: a changed epoch also ends the other subscribers of the old one.
        var log = logs.Adopt(state);
        if (after > 0 && !string.IsNullOrEmpty(afterEpoch) && afterEpoch != state.Epoch)
        {
            throw new StaleCursorException(topic, after, afterEpoch, state.Epoch);
        }
        if (after < state.RetainedAfter || after > state.Head)
        {
            throw new StaleCursorException(topic, after, state.RetainedAfter, state.Head);
        }
        return new Subscription(this, log, after, state.Head, state.Epoch, audience);
    }
}
