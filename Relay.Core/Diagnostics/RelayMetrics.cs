using System.Diagnostics.Metrics;

namespace Relay.Core.Diagnostics;

/// <summary>
/// The one owner of the <c>Khala.Relay</c> meter (<see href="https://learn.microsoft.com/dotnet/core/diagnostics/metrics">System.Diagnostics.Metrics</see>):
/// every instrument of the relay is created here, with the names of its tags, so that the host can export each one at
/// <c>/metrics</c> from the first scrape. docs/architecture.md §7 lists them with their Prometheus names.
/// </summary>
public sealed class RelayMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Khala.Relay";

    /// <summary>The tag naming a topic.</summary>
    public const string TopicTag = "topic";

    private static readonly string[] s_topic = [TopicTag];

    private readonly Dictionary<string, string[]> _tagNames = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Creates the meter and its counters and histograms; gauges are added by their sources with <see cref="ObserveGauge{T}"/>.</summary>
    public RelayMetrics()
    {
        EventsAppended = CreateCounter("relay.feed.events", "{event}", "Journal events appended to topic logs", s_topic);
        GapFills = CreateCounter("relay.feed.gap_fills", "{fill}", "Times a topic log read missing events from the journal", s_topic);
        JournalRewrites = CreateCounter("relay.feed.journal_rewrites", "{rewrite}",
            "Times the journal was found to have lost or replaced events this relay had read, under the same epoch: a failover to an asynchronous standby or a restore, without relay.reset_epoch", s_topic);
        Reconnects = CreateCounter("relay.feed.reconnects", "{reconnect}", "Times the feed lost its connection and reconnected");
        FellBehind = CreateCounter("relay.subscriptions.fell_behind", "{episode}",
            "Live subscribers whose queue was full so long that they fell out of the ring and caught up from the journal", s_topic);
        Connects = CreateCounter("relay.connects", "{connection}", "WebSocket connections accepted");
        Resumes = CreateCounter("relay.resumes", "{subscription}", "Subscriptions opened from a client's watermark (resume_after above 0)", s_topic);
        StaleCursors = CreateCounter("relay.stale_cursors", "{subscription}", "Subscriptions refused or ended with STALE_CURSOR", s_topic);
        PushesDropped = CreateCounter("relay.pushes.dropped", "{push}", "Heartbeats not queued because the connection's queue was full");
        SlowConsumerDisconnects = CreateCounter("relay.slow_consumer.disconnects", "{connection}", "Connections ended because one send blocked past Relay:Sync:SendTimeout");
        ReplayErrors = CreateCounter("relay.replay.errors", "{error}", "Subscriptions that failed while reading (INTERNAL pushed to the client)", s_topic);
        AllocationFailures = CreateCounter("relay.watermark.allocation_failures", "{allocation}",
            "Watermarks allocated by writer transactions that rolled back, from PostgreSQL's statistics of relay.stream_events");
        ReplayBatchDuration = CreateHistogram("relay.replay.batch.duration",
            "Time to read one batch of events from the journal (catch-up and gap fills)", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
        CatchUpDuration = CreateHistogram("relay.catchup.duration",
            "Time from Subscribe to the batch that ends replay (caught up)", [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);
    }

    /// <summary>The meter every instrument belongs to.</summary>
    public Meter Meter { get; } = new(MeterName);

    /// <summary>Events appended to topic logs, tagged by topic.</summary>
    public Counter<long> EventsAppended { get; }

    /// <summary>Gap fills, tagged by topic.</summary>
    public Counter<long> GapFills { get; }

    /// <summary>Journals found rewritten under the same epoch (commits lost, watermarks to be reused), tagged by topic.</summary>
    public Counter<long> JournalRewrites { get; }

    /// <summary>Feed sessions lost.</summary>
    public Counter<long> Reconnects { get; }

    /// <summary>Fell-behind episodes, tagged by topic: live pushes a subscriber got later, from catch-up.</summary>
    public Counter<long> FellBehind { get; }

    /// <summary>WebSocket connections accepted.</summary>
    public Counter<long> Connects { get; }

    /// <summary>Subscriptions opened from a watermark, tagged by topic.</summary>
    public Counter<long> Resumes { get; }

    /// <summary>Stale cursors, tagged by topic.</summary>
    public Counter<long> StaleCursors { get; }

    /// <summary>Pushes the relay did not queue (heartbeats to a full queue).</summary>
    public Counter<long> PushesDropped { get; }

    /// <summary>Connections ended for a blocked send.</summary>
    public Counter<long> SlowConsumerDisconnects { get; }

    /// <summary>Subscriptions that failed while reading, tagged by topic.</summary>
    public Counter<long> ReplayErrors { get; }

    /// <summary>Watermark allocations lost to rollback, as PostgreSQL's statistics report them.</summary>
    public Counter<long> AllocationFailures { get; }

    /// <summary>Seconds to read one journal batch.</summary>
    public Histogram<double> ReplayBatchDuration { get; }

    /// <summary>Seconds from Subscribe to caught up.</summary>
    public Histogram<double> CatchUpDuration { get; }

    /// <summary>The names of the tags <paramref name="instrument"/> records, in a fixed order; empty when it has none.</summary>
    public IReadOnlyList<string> TagNamesOf(Instrument instrument)
    {
        lock (_gate)
        {
            return instrument.Meter == Meter ? _tagNames.GetValueOrDefault(instrument.Name) ?? [] : [];
        }
    }

    /// <summary>Adds a gauge observed at each collection, for instance by the exporter's scrape.</summary>
    /// <param name="name">The instrument name, <c>relay.…</c>.</param>
    /// <param name="unit">UCUM unit: <c>s</c>, <c>By</c>, or an annotation such as <c>{event}</c>.</param>
    /// <param name="description">What it measures.</param>
    /// <param name="observe">Reads the current values, each with the tags named by <paramref name="tagNames"/>.</param>
    /// <param name="tagNames">The tags every measurement carries; none by default.</param>
    public ObservableGauge<T> ObserveGauge<T>(string name, string unit, string description, Func<IEnumerable<Measurement<T>>> observe, params string[] tagNames)
        where T : struct
    {
        // Listeners learn of an instrument as it is created: its tag names must be known before.
        Remember(name, tagNames);
        return Meter.CreateObservableGauge(name, observe, unit, description);
    }

    /// <summary>Records 0 on every per-topic counter, so that a new topic's series exist before its first event.</summary>
    public void SeedTopic(string topic)
    {
        var tag = new KeyValuePair<string, object?>(TopicTag, topic);
        foreach (var counter in (Counter<long>[])[EventsAppended, GapFills, JournalRewrites, FellBehind, Resumes, StaleCursors, ReplayErrors])
        {
            counter.Add(0, tag);
        }
    }

    /// <summary>Records one event for <paramref name="topic"/> on a per-topic counter.</summary>
    public static void Add(Counter<long> counter, string topic, long value = 1) =>
        counter.Add(value, new KeyValuePair<string, object?>(TopicTag, topic));

    /// <inheritdoc />
    public void Dispose() => Meter.Dispose();

    private Counter<long> CreateCounter(string name, string unit, string description, string[]? tagNames = null)
    {
        Remember(name, tagNames ?? []);
        return Meter.CreateCounter<long>(name, unit, description);
    }

    private Histogram<double> CreateHistogram(string name, string description, IReadOnlyList<double> buckets)
    {
        Remember(name, []);
        return Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });
    }

    private void Remember(string name, string[] tagNames)
    {
        lock (_gate)
        {
            _tagNames[name] = tagNames;
        }
    }
}
