using System.Runtime.CompilerServices;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Tenancy;
using Relay.Core.Topics;

namespace Relay.Core.Subscriptions;

/// <summary>
/// One reader of one topic from a resume point: catch-up first (from the ring while it still holds the range, from the
/// journal in bounded batches when not), then live, with no gap and no duplicate at the switch, since both read the
/// same gap-free sequence by watermark. A reader too slow for the ring falls behind into journal catch-up and comes
/// back; it never slows the feed or other readers, and holds at most one batch. Each batch says the
/// <see cref="SubscriptionPhase"/> it belongs to.
/// </summary>
public sealed class Subscription
{
    /// <summary>The pause before reading again a journal whose next event's commit is not visible yet.</summary>
    private static readonly TimeSpan s_visibilityRetryDelay = TimeSpan.FromMilliseconds(5);

    private readonly SubscriptionSource _source;
    private readonly TopicLog _log;
    private readonly PointerVersions _delivered = new();
    private long _position;
    private SubscriptionPhase _phase = SubscriptionPhase.Replay;

    internal Subscription(SubscriptionSource source, TopicLog log, long after, long headAtOpen, string epoch, Audience audience)
    {
        _source = source;
        _log = log;
        After = after;
        _position = after;
        HeadAtOpen = headAtOpen;
        Epoch = epoch;
        Audience = audience;
    }

    /// <summary>The topic.</summary>
    public string Topic => _log.Topic;

    /// <summary>Who receives the documents.</summary>
    public Audience Audience { get; }

    /// <summary>The topic's head when the subscription opened, as told to the subscriber: replay ends there.</summary>
    public long HeadAtOpen { get; }

    /// <summary>The topic's epoch when the subscription opened; the subscription is stale once the topic's changes.</summary>
    public string Epoch { get; }

    /// <summary>The resume point the subscription opened after.</summary>
    public long After { get; }

    /// <summary>
    /// Batches in watermark order until cancelled. A batch may hold no events and still advance
    /// <see cref="EventBatch.Through"/>; one batch, possibly empty, has the phase <see cref="SubscriptionPhase.CaughtUp"/>
    /// each time a replay ends (the first one if the subscription opened at the head).
    /// </summary>
    /// <exception cref="StaleCursorException">
    /// The events after the cursor were pruned while catching up, or the topic's epoch changed (a restored database).
    /// </exception>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async IAsyncEnumerable<EventBatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var options = _source.Options;
        var events = new List<JournalEvent>(options.BatchMaxEvents);
        using var waiter = new TopicWaiter(_log, cancellationToken);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_position >= _log.Head)
            {
                if (_phase == SubscriptionPhase.Replay && _position >= HeadAtOpen)
                {
                    // At the head the subscriber was told of with nothing left to read (opened there, or everything
                    // that remained was filtered out): say so before waiting.
                    _phase = SubscriptionPhase.Live;
                    yield return new EventBatch(Topic, [], _position, SubscriptionPhase.CaughtUp);
                }
                await _log.WaitPastAsync(_position, Epoch, waiter);
            }
            if (_log.Epoch is { } epoch && epoch != Epoch)
            {
                throw new StaleCursorException(Topic, _position, Epoch, epoch);
            }
            events.Clear();
            if (!_log.TryRead(_position, options.BatchMaxEvents, options.BatchMaxBytes, events))
            {
                if (_phase == SubscriptionPhase.Live)
                {
                    _phase = SubscriptionPhase.Replay;
                    RelayMetrics.Add(_source.Metrics.FellBehind, Topic);
                }
                await ReadJournalAsync(events, cancellationToken);
            }
            if (events.Count == 0)
            {
                continue;
            }

            _position = events[^1].Watermark;
            var visible = await DeliverableAsync(events, cancellationToken);
            // A pointer event's document is read after the batch was cut on journal rows, so the documents can add up
            // to more than a batch may carry: the first parts go out on their own, each within the bound.
            for (var end = PartEnd(visible, options.BatchMaxBytes); end < visible.Count; end = PartEnd(visible, options.BatchMaxBytes))
            {
                var part = visible.Take(end).ToArray();
                visible = [.. visible.Skip(end)];
                yield return new EventBatch(Topic, part, part[^1].Watermark, _phase);
            }
            // Caught up means at the head the subscriber was told of in Subscribed, even while this relay's log lags it.
            if (_phase == SubscriptionPhase.Replay && _position >= Math.Max(HeadAtOpen, _log.Head))
            {
                _phase = SubscriptionPhase.Live;
                yield return new EventBatch(Topic, visible, _position, SubscriptionPhase.CaughtUp);
            }
            else
            {
                yield return new EventBatch(Topic, visible, _position, _phase);
            }
        }
    }

    /// <summary>How many of <paramref name="events"/> fit in one batch of at most <paramref name="maxBytes"/> (at least one).</summary>
    private static int PartEnd(IReadOnlyList<JournalEvent> events, int maxBytes)
    {
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            bytes += events[i].SentSize;
            if (i > 0 && bytes > maxBytes)
            {
                return i;
            }
        }
        return events.Count;
    }

    private async Task ReadJournalAsync(List<JournalEvent> events, CancellationToken cancellationToken)
    {
        var options = _source.Options;
        events.AddRange(await _source.CatchUp.ReadAsync(Topic, _position, options.BatchMaxEvents, options.BatchMaxBytes, cancellationToken));
        // Called only behind the log's head, so the journal holds the next event unless relay.prune took it, or unless
        // its commit, which logical decoding can hand over a moment before other snapshots see it, is not visible yet.
        if (events.Count == 0)
        {
            var state = await _source.Journal.ReadTopicAsync(Topic, cancellationToken);
            if (state is not { } topic || topic.RetainedAfter > _position)
            {
                throw new StaleCursorException(Topic, _position, state?.RetainedAfter ?? _log.Head, _log.Head);
            }
            // Not visible yet: the caller reads again.
            await Task.Delay(s_visibilityRetryDelay, cancellationToken);
            return;
        }
        if (events[0].Watermark != _position + 1)
        {
            throw new StaleCursorException(Topic, _position, events[0].Watermark - 1, _log.Head);
        }
    }

    /// <summary>
    /// The events this subscriber receives: the audience decides on each event as delivered, so a pointer event is
    /// resolved first (only where the journal row was the audience's: another row is skipped either way) and then
    /// judged on the resolved document. In a pointer topic, an event with nothing newer than what went out is skipped.
    /// </summary>
    private async ValueTask<IReadOnlyList<JournalEvent>> DeliverableAsync(List<JournalEvent> events, CancellationToken cancellationToken)
    {
        var rows = Audience.OrgId is null ? events.ToArray() : events.Where(e => Audience.CanSee(e.OrgId)).ToArray();
        if (!rows.Any(e => e.IsPointer))
        {
            return rows;
        }
        var resolved = await _source.Resolver.ResolveAsync(_log, rows, cancellationToken);
        var deliverable = new List<JournalEvent>(rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            if (Audience.Deliverable(rows[i], resolved[i]) is { } delivered && _delivered.Advance(delivered))
            {
                deliverable.Add(delivered);
            }
        }
        return deliverable;
    }
}
