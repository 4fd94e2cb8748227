using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;

namespace Relay.Core.Topics;

/// <summary>
/// Every topic log of this relay. The feed is the one writer: it hands over events in commit order, and this keeps
/// each log gap-free: an event at or below the head is a repeat and dropped; an event past head + 1 means something
/// was missed, so the missing range is read from the journal first.
/// </summary>
public sealed partial class TopicLogs
{
    private const int FillBatch = 1000;

    private readonly ConcurrentDictionary<string, TopicLog> _logs = new(StringComparer.Ordinal);
    private readonly JournalReader _journal;
    private readonly TopicLogOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<TopicLogs> _logger;

    /// <summary>Creates the registry and publishes its gauges.</summary>
    public TopicLogs(JournalReader journal, TopicLogOptions options, RelayMetrics metrics, ILogger<TopicLogs> logger)
    {
        _journal = journal;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveGauge("relay.topic.head", "{watermark}", "Head watermark of each topic log",
            () => _logs.Values.Select(log => new Measurement<long>(log.Head, new KeyValuePair<string, object?>(RelayMetrics.TopicTag, log.Topic))),
            RelayMetrics.TopicTag);
    }

    /// <summary>The log of a topic, if this relay has one.</summary>
    public TopicLog? Find(string topic) => _logs.GetValueOrDefault(topic);

    /// <summary>Every log.</summary>
    public IEnumerable<TopicLog> All => _logs.Values;

    /// <summary>The log of a topic known to exist at <paramref name="head"/>, created there if this relay has none yet.</summary>
    public TopicLog GetOrAdd(string topic, long head) =>
        _logs.GetOrAdd(topic, static (name, state) => new TopicLog(name, state.head, null, state.options), (head, options: _options));

    /// <summary>
    /// The log of a topic as just read from the database, created at its head if this relay has none yet. A log whose
    /// epoch changed starts over at the database's head (logged): the database was restored or moved, and its readers
    /// of the old epoch get <c>STALE_CURSOR</c>.
    /// </summary>
    public TopicLog Adopt(TopicState state) => Adopt(state, reset: false);

    /// <param name="state">The topic's row.</param>
    /// <param name="reset">A <c>relay.reset_epoch</c> gave it: a log of unknown epoch starts over too.</param>
    private TopicLog Adopt(TopicState state, bool reset)
    {
        var log = _logs.GetOrAdd(state.Topic, static (name, state) => new TopicLog(name, state.Head, state.Epoch, state.Options), (state.Head, state.Epoch, Options: _options));
        var (epoch, head) = (log.Epoch, log.Head);
        if (log.Adopt(state.Epoch, state.Head, reset))
        {
            Log.StartedOver(_logger, log.Topic, epoch, head, state.Epoch, state.Head);
        }
        return log;
    }

    /// <summary>
    /// Brings logs up to the given heads (read from a snapshot at a feed's (re)connection, or by the notify feed's poll):
    /// creates logs for new topics and fills what a log misses. With <paramref name="gap"/> that is what the log missed
    /// while the feed was away, logged and counted as a gap (<c>relay.feed.gap_fills</c>); without, a log behind its head
    /// is expected (the notify feed's poll often reads a head whose wake-up it has not handled yet) and only logged at
    /// Debug.
    /// </summary>
    public async Task SyncAsync(IReadOnlyList<TopicState> topics, bool gap, CancellationToken cancellationToken)
    {
        foreach (var state in topics)
        {
            var log = Adopt(state);
            if (gap && state.Head < log.Head && state.Epoch == log.Epoch)
            {
                // A feed's (re)connection reads heads in a snapshot that shows every commit it could have handed over:
                // a lower head is commits lost, whose watermarks the next writers take again.
                Log.HeadBelowLog(_logger, log.Topic, state.Head, log.Head);
                RelayMetrics.Add(_metrics.JournalRewrites, log.Topic);
            }
            if (state.Head > log.Head)
            {
                await FillAsync(log, state.Head, gap, cancellationToken);
            }
        }
    }

    /// <summary>Appends events in commit order (any mix of topics), filling gaps and dropping repeats.</summary>
    public async Task AppendAsync(IReadOnlyList<JournalEvent> events, CancellationToken cancellationToken = default)
    {
        var start = 0;
        while (start < events.Count)
        {
            // Runs of one topic go in together so readers wake once per run.
            var end = start + 1;
            while (end < events.Count && events[end].Topic == events[start].Topic)
            {
                end++;
            }
            await AppendRunAsync(events, start, end, cancellationToken);
            start = end;
        }
    }

    private async Task AppendRunAsync(IReadOnlyList<JournalEvent> events, int start, int end, CancellationToken cancellationToken)
    {
        var log = GetOrAdd(events[start].Topic, 0);
        var run = new List<JournalEvent>(end - start);
        var rewritten = false;
        for (var i = start; i < end; i++)
        {
            var journalEvent = events[i];
            var expected = log.Head + run.Count + 1;
            if (journalEvent.Watermark < expected)
            {
                // A repeat (a feed that reconnected replays from its slot), unless it is not the event the log holds.
                rewritten |= log.Contradicts(journalEvent);
                continue;
            }
            if (journalEvent.Watermark > expected)
            {
                log.Append(run);
                run.Clear();
                await FillAsync(log, journalEvent.Watermark - 1, gap: true, cancellationToken);
                if (journalEvent.Watermark <= log.Head)
                {
                    continue;
                }
            }
            run.Add(journalEvent);
        }
        log.Append(run);
        if (run.Count > 0)
        {
            _metrics.EventsAppended.Add(run.Count, new KeyValuePair<string, object?>("topic", log.Topic));
        }
        if (rewritten)
        {
            await ReadmitAsync(log, cancellationToken);
        }
    }

    /// <summary>
    /// <c>relay.reset_epoch</c> committed with these new epochs, each with its topic's head at that commit (its
    /// <c>relay.epochs</c> message): a log of such a topic starts over there and sends its subscribers to re-hydrate.
    /// Taken from the message, not read from the rows: a decoded commit may not be visible to a new snapshot yet.
    /// </summary>
    public void Reset(IEnumerable<(string Topic, string Epoch, long Head)> topics)
    {
        foreach (var (topic, epoch, head) in topics)
        {
            if (Find(topic) is not null)
            {
                // Adopt takes the epoch and the head; the retained window is the poll's business.
                Adopt(new TopicState(topic, head, RetainedAfter: 0, epoch), reset: true);
            }
        }
    }

    /// <summary>
    /// <c>relay.reset_epoch</c> committed for <paramref name="topic"/> (null: every topic): read the rows of the topics
    /// this relay has logs for, so that a changed epoch starts a log over and sends its subscribers to re-hydrate.
    /// </summary>
    public async Task ReadEpochsAsync(string? topic, CancellationToken cancellationToken = default)
    {
        foreach (var log in topic is null ? [.. _logs.Values] : Find(topic) is { } one ? [one] : Array.Empty<TopicLog>())
        {
            if (await _journal.ReadTopicAsync(log.Topic, cancellationToken) is { } state)
            {
                Adopt(state, reset: true);
            }
        }
    }

    /// <summary>
    /// The journal under a log was rewritten (a restored database): read the topic's row, so that a changed epoch starts
    /// the log over and sends its subscribers to re-hydrate without waiting for a relay restart.
    /// </summary>
    private async Task ReadmitAsync(TopicLog log, CancellationToken cancellationToken)
    {
        if (await _journal.ReadTopicAsync(log.Topic, cancellationToken) is not { } state)
        {
            return;
        }
        if (state.Epoch == log.Epoch)
        {
            Log.RewrittenWithoutNewEpoch(_logger, log.Topic);
            RelayMetrics.Add(_metrics.JournalRewrites, log.Topic);
            return;
        }
        Adopt(state);
    }

    private async Task FillAsync(TopicLog log, long through, bool gap, CancellationToken cancellationToken)
    {
        if (gap)
        {
            Log.FillingGap(_logger, log.Topic, log.Head, through);
            _metrics.GapFills.Add(1, new KeyValuePair<string, object?>("topic", log.Topic));
        }
        else
        {
            Log.CatchingUp(_logger, log.Topic, log.Head, through);
        }
        while (log.Head < through)
        {
            var events = await _journal.ReadAsync(log.Topic, log.Head, through, FillBatch, int.MaxValue, cancellationToken);
            if (events.Count == 0 || events[0].Watermark != log.Head + 1)
            {
                // Pruned before this relay read it: nobody can be served those events any more.
                var resumeAt = events.Count == 0 ? through : events[0].Watermark - 1;
                Log.Pruned(_logger, log.Topic, log.Head, resumeAt);
                log.SkipTo(resumeAt);
                continue;
            }
            log.Append(events);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Feed + 20, LogLevel.Information, "Topic {Topic}: reading events {Head}..{Through} from the journal to fill a gap")]
        public static partial void FillingGap(ILogger logger, string topic, long head, long through);

        [LoggerMessage(RelayEventIds.Feed + 24, LogLevel.Debug, "Topic {Topic}: reading events {Head}..{Through} from the journal, as the poll found them")]
        public static partial void CatchingUp(ILogger logger, string topic, long head, long through);

        [LoggerMessage(RelayEventIds.Feed + 21, LogLevel.Warning, "Topic {Topic}: events after {Head} up to {ResumeAt} were pruned before this relay read them")]
        public static partial void Pruned(ILogger logger, string topic, long head, long resumeAt);

        [LoggerMessage(RelayEventIds.Feed + 22, LogLevel.Warning,
            "Topic {Topic}: the database is at epoch {Epoch}, head {Head}, where this relay had epoch {OldEpoch}, head {OldHead}: restored or moved; its log starts over and its subscribers re-hydrate")]
        public static partial void StartedOver(ILogger logger, string topic, string? oldEpoch, long oldHead, string epoch, long head);

        [LoggerMessage(RelayEventIds.Feed + 23, LogLevel.Error,
            "Topic {Topic}: the journal holds other events than this relay read at the same watermarks, under the same epoch: the database was restored without the DBA step; run SELECT * FROM relay.reset_epoch() and restart the relays")]
        public static partial void RewrittenWithoutNewEpoch(ILogger logger, string topic);

        [LoggerMessage(RelayEventIds.Feed + 25, LogLevel.Error,
            "Topic {Topic}: the database's head is {Head}, below the {LogHead} this relay read, under the same epoch: commits it delivered are gone (a failover to an asynchronous standby, or a restore) and their watermarks will be taken again; run SELECT * FROM relay.reset_epoch() and restart the relays (docs/runbooks/postgres-failover.md)")]
        public static partial void HeadBelowLog(ILogger logger, string topic, long head, long logHead);
    }
}
