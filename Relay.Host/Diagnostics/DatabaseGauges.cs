using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Core.Feeds;
using Relay.Core.Topics;

namespace Relay.Host.Diagnostics;

/// <summary>
/// Reads what only the database knows, every <see cref="MetricsOptions.PollInterval"/>: each topic's journal (rows,
/// bytes, oldest retained watermark and its age, retention), replication slots' retained WAL, the NOTIFY queue's usage, the statistics behind
/// <see cref="RelayMetrics.AllocationFailures"/>, and which events the topic logs still miss, for the feed lag. The first
/// read happens before the host starts, so every series is there at the first scrape.
/// </summary>
internal sealed partial class DatabaseGauges : BackgroundService
{
    private static readonly KeyValuePair<string, object?>[] s_none = [];

    /// <summary>The least time a read is given before it is abandoned, however often reads come.</summary>
    private static readonly TimeSpan MinReadTimeout = TimeSpan.FromSeconds(10);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TopicLogs _logs;
    private readonly JournalFeed _feed;
    private readonly RelayMetrics _metrics;
    private readonly MetricsOptions _options;
    private readonly ILogger<DatabaseGauges> _logger;
    private readonly HashSet<string> _seeded = new(StringComparer.Ordinal);
    private volatile DatabaseSnapshot _snapshot = DatabaseSnapshot.Empty;
    private long? _insertedBefore;
    private long _failuresHighWater;

    // When the gauges were last read, or the relay started if never: a read that fails or waits on a lock leaves the
    // last values in place, and only this tells they are old.
    private long _readAtTicks = DateTimeOffset.UtcNow.UtcTicks;

    public DatabaseGauges(
        NpgsqlDataSource dataSource, TopicLogs logs, JournalFeed feed, RelayMetrics metrics, IOptions<MetricsOptions> options, ILogger<DatabaseGauges> logger)
    {
        _dataSource = dataSource;
        _logs = logs;
        _feed = feed;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        PerTopic("relay.journal.head", "{watermark}", "Head watermark of each topic in the database", t => t.Head);
        PerTopic("relay.journal.rows", "{row}", "Journal rows retained per topic (head minus retained_after)", t => t.Head - t.RetainedAfter);
        PerTopic("relay.journal.size", "By", "Each topic's share of relay.stream_events' table and index size, by rows", t => t.Bytes);
        PerTopic("relay.journal.oldest_watermark", "{watermark}", "Oldest watermark a client can resume from (retained_after + 1)", t => t.RetainedAfter + 1);
        PerTopic("relay.journal.oldest_event.age", "s", "Age of the oldest retained journal event (0 when none)",
            t => t.OldestInsertedAt is { } at ? Math.Max(0, (DateTimeOffset.UtcNow - at).TotalSeconds) : 0);
        PerTopic("relay.journal.retention", "s", "The topic's retention setting", t => t.RetentionSeconds);
        metrics.ObserveGauge<double>("relay.slot.retained_wal", "By", "WAL PostgreSQL keeps for each replication slot (current LSN minus restart_lsn)",
            () => _snapshot.Slots.Select(s => new Measurement<double>(s.RetainedBytes, new KeyValuePair<string, object?>("slot", s.Name))), "slot");
        metrics.ObserveGauge<double>("relay.feed.lag", "s",
            "Age of the oldest committed event the topic logs do not have yet; 0 when caught up",
            () => [new Measurement<double>(FeedLagSeconds(), s_none)]);
        metrics.ObserveGauge<int>("relay.feed.streaming", "{feed}", "1 while the journal feed is connected and following, else 0",
            () => [new Measurement<int>(_feed.Status.Streaming ? 1 : 0, s_none)]);
        metrics.ObserveGauge<double>("relay.database.read.age", "s",
            "Seconds since the gauges read from the database (journal, slots, NOTIFY queue, feed lag) were last read; they keep their last values meanwhile",
            () => [new Measurement<double>(ReadAgeSeconds(), s_none)]);
        metrics.ObserveGauge<double>("relay.notify.queue_usage", "1",
            "Share of PostgreSQL's NOTIFY queue in use (pg_notification_queue_usage()); at 1 every commit that notifies fails",
            () => [new Measurement<double>(_snapshot.NotifyQueueUsage, s_none)]);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await PollOnceAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.PollInterval);
        try
        {
            await ReadWhenFirstStreamingAsync(stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await PollOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>
    /// The replication feed makes its slot once it connects, after the read before the host started: read again then,
    /// so that the slot's series is at the next scrape, not a whole interval later. A feed not streaming within the
    /// interval is left to the regular reads.
    /// </summary>
    private async Task ReadWhenFirstStreamingAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _feed.Status.FirstStreaming.WaitAsync(_options.PollInterval, stoppingToken);
        }
        catch (TimeoutException)
        {
            return;
        }
        await PollOnceAsync(stoppingToken);
    }

    private async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        // A read stuck behind a lock (VACUUM FULL or CLUSTER of the journal) is given up at the next read's time, or
        // after ReadTimeout when reads come more often, so that its failure is logged and the age above keeps growing,
        // rather than one read waiting for good.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ReadTimeout);
        try
        {
            var snapshot = await DatabaseSnapshot.ReadAsync(_dataSource, _logs, bounded.Token);
            foreach (var topic in snapshot.Topics.Where(t => _seeded.Add(t.Topic)))
            {
                _metrics.SeedTopic(topic.Topic);
            }
            CountAllocationFailures(snapshot);
            _snapshot = snapshot;
            Volatile.Write(ref _readAtTicks, DateTimeOffset.UtcNow.UtcTicks);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            Log.PollFailed(_logger, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.PollFailed(_logger, $"no answer within {ReadTimeout.TotalSeconds:0.#} s; a lock on relay's tables?");
        }
    }

    private TimeSpan ReadTimeout => _options.PollInterval > MinReadTimeout ? _options.PollInterval : MinReadTimeout;

    private double ReadAgeSeconds() =>
        Math.Max(0, (DateTimeOffset.UtcNow.UtcTicks - Volatile.Read(ref _readAtTicks)) / (double)TimeSpan.TicksPerSecond);

    /// <summary>
    /// Rows inserted into the journal (PostgreSQL counts those of rolled-back transactions too) minus the topics' heads
    /// (committed allocations) is the number of allocations lost to rollback. The statistics are flushed late and reset on
    /// a crash, so the counter follows the difference's high-water mark and starts afresh when the statistics go back.
    /// </summary>
    private void CountAllocationFailures(DatabaseSnapshot snapshot)
    {
        var lost = snapshot.JournalInserts - snapshot.Topics.Sum(t => t.Head);
        if (_insertedBefore is not { } before || snapshot.JournalInserts < before)
        {
            _failuresHighWater = lost;
        }
        else if (lost > _failuresHighWater)
        {
            _metrics.AllocationFailures.Add(lost - _failuresHighWater);
            _failuresHighWater = lost;
        }
        _insertedBefore = snapshot.JournalInserts;
    }

    /// <summary>The latest read of the database, for the status page.</summary>
    public DatabaseSnapshot Snapshot => _snapshot;

    /// <summary>Age of the oldest committed event the topic logs lack; 0 when caught up.</summary>
    public double FeedLagSeconds()
    {
        var now = DateTimeOffset.UtcNow;
        var lag = 0.0;
        foreach (var pending in _snapshot.Pending)
        {
            if ((_logs.Find(pending.Topic)?.Head ?? 0) < pending.Watermark)
            {
                lag = Math.Max(lag, (now - pending.InsertedAt).TotalSeconds);
            }
        }
        return lag;
    }

    private void PerTopic(string name, string unit, string description, Func<DatabaseSnapshot.TopicRow, double> value) =>
        _metrics.ObserveGauge<double>(name, unit, description,
            () => _snapshot.Topics.Select(t => new Measurement<double>(value(t), new KeyValuePair<string, object?>(RelayMetrics.TopicTag, t.Topic))),
            RelayMetrics.TopicTag);

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Host + 40, LogLevel.Warning, "Could not read the journal's metrics from the database: {Reason}")]
        public static partial void PollFailed(ILogger logger, string reason);
    }
}
