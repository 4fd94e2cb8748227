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
/// back; it never slows the feed or other readers, and holds at most one batch.
/// </summary>
public sealed class Subscription
{
    private readonly TopicLogs _logs;
    private readonly TopicLog _log;
    private readonly PointerResolver _resolver;
    private readonly RelayMetrics _metrics;
    private readonly Audience _audience;
    private readonly PointerVersions _delivered = new();
    private long _cursor;
    private bool _live;

    private Subscription(TopicLogs logs, TopicLog log, PointerResolver resolver, RelayMetrics metrics, long after, TopicState state, Audience audience)
    {
        _logs = logs;
        _log = log;
        _resolver = resolver;
        _metrics = metrics;
        _cursor = after;
        After = after;
        _audience = audience;
        HeadAtOpen = state.Head;
        Epoch = state.Epoch;
        // Opened at the head: everything it will read was committed after it started.
        _live = after >= Math.Max(state.Head, log.Head);
    }

    /// <summary>The topic.</summary>
    public string Topic => _log.Topic;

    /// <summary>Who receives the documents.</summary>
    public Audience Audience => _audience;

    /// <summary>The topic's head in the database when the subscription opened.</summary>
    public long HeadAtOpen { get; }

    /// <summary>Opened at the head: the subscriber is caught up before reading anything.</summary>
    public bool OpenedCaughtUp => HeadAtOpen <= After;

    /// <summary>The topic's epoch when the subscription opened; the subscription is stale once the topic's changes.</summary>
    public string Epoch { get; }

    /// <summary>The resume point the subscription opened after.</summary>
    public long After { get; }

    /// <summary>The watermark the subscriber has been brought up to.</summary>
    public long Cursor => Volatile.Read(ref _cursor);

    /// <summary>
    /// Opens a subscription after <paramref name="after"/>, checked against the topic's row in the database.
    /// </summary>
    /// <param name="logs">The topic logs.</param>
    /// <param name="resolver">Reads pointer-mode documents.</param>
    /// <param name="metrics">Counts fell-behind episodes.</param>
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
    public static async Task<Subscription> OpenAsync(
        TopicLogs logs, PointerResolver resolver, RelayMetrics metrics, string topic, long after, string? afterEpoch,
        Audience audience, CancellationToken cancellationToken = default)
    {
        var state = await logs.Journal.ReadTopicAsync(topic, cancellationToken) ?? throw new UnknownTopicException(topic);
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
        return new Subscription(logs, log, resolver, metrics, after, state, audience);
    }

    /// <summary>Batches in watermark order until cancelled. A batch may hold no events and still advance <see cref="EventBatch.Through"/>.</summary>
    /// <exception cref="StaleCursorException">
    /// The events after the cursor were pruned while catching up, or the topic's epoch changed (a restored database).
    /// </exception>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async IAsyncEnumerable<EventBatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var options = _logs.Options;
        var events = new List<JournalEvent>(options.BatchMaxEvents);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_cursor >= _log.Head)
            {
                // Caught up (unless this relay's log still lags the head the subscriber was told of): whatever comes
                // next is a live push.
                _live |= _cursor >= HeadAtOpen;
                await _log.WaitPastAsync(_cursor, Epoch, cancellationToken);
            }
            if (_log.Epoch is { } epoch && epoch != Epoch)
            {
                throw new StaleCursorException(Topic, _cursor, Epoch, epoch);
            }
            events.Clear();
            if (!_log.TryRead(_cursor, options.BatchMaxEvents, options.BatchMaxBytes, events))
            {
                await ReadJournalAsync(events, cancellationToken);
            }
            if (events.Count == 0)
            {
                continue;
            }

            var through = events[^1].Watermark;
            var visible = await DeliverableAsync(events, cancellationToken);
            Volatile.Write(ref _cursor, through);
            // Caught up means at the head the subscriber was told of in Subscribed, even while this relay's log lags it.
            var caughtUp = through >= Math.Max(HeadAtOpen, _log.Head);
            var batch = new EventBatch(Topic, visible, through, _live, caughtUp);
            _live |= caughtUp;
            yield return batch;
        }
    }

    private async Task ReadJournalAsync(List<JournalEvent> events, CancellationToken cancellationToken)
    {
        if (_live)
        {
            _live = false;
            _metrics.FellBehind.Add(1, new KeyValuePair<string, object?>("topic", Topic));
        }
        var options = _logs.Options;
        events.AddRange(await _logs.Journal.ReadAsync(Topic, _cursor, long.MaxValue, options.BatchMaxEvents, options.BatchMaxBytes, cancellationToken));
        if (events.Count > 0 && events[0].Watermark != _cursor + 1)
        {
            var state = await _logs.Journal.ReadTopicAsync(Topic, cancellationToken);
            throw new StaleCursorException(Topic, _cursor, state?.RetainedAfter ?? 0, state?.Head ?? 0);
        }
    }

    /// <summary>
    /// The events this subscriber receives: the audience decides on each event as delivered, so a pointer event is
    /// resolved first (only where the journal row was the audience's: another row is skipped either way) and then
    /// judged on the resolved document. In a pointer topic, an event with nothing newer than what went out is skipped.
    /// </summary>
    private async Task<IReadOnlyList<JournalEvent>> DeliverableAsync(List<JournalEvent> events, CancellationToken cancellationToken)
    {
        var rows = events.Where(e => _audience.CanSee(e.OrgId)).ToArray();
        if (!rows.Any(e => e.IsPointer))
        {
            return rows;
        }
        var resolved = await _resolver.ResolveAsync(_log, rows, cancellationToken);
        var deliverable = new List<JournalEvent>(rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            if (_audience.Deliverable(rows[i], resolved[i]) is { } delivered && _delivered.Advance(delivered))
            {
                deliverable.Add(delivered);
            }
        }
        return deliverable;
    }
}
