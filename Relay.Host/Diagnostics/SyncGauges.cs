using System.Diagnostics.Metrics;
using Relay.Core.Diagnostics;
using Relay.Core.Topics;
using Relay.Host.Sync;

namespace Relay.Host.Diagnostics;

/// <summary>
/// The connections' gauges: how many, the bytes queued for them, and per topic the client lag (the topic log's head
/// minus the watermark queued for a connection), as the maximum and the 95th percentile over the topic's subscribers.
/// A topic with no subscriber reports 0.
/// </summary>
internal sealed class SyncGauges
{
    private static readonly KeyValuePair<string, object?>[] s_none = [];

    private readonly SyncConnections _connections;
    private readonly TopicLogs _logs;

    public SyncGauges(SyncConnections connections, TopicLogs logs, RelayMetrics metrics)
    {
        _connections = connections;
        _logs = logs;
        metrics.ObserveGauge<int>("relay.connections", "{connection}", "Open WebSocket connections",
            () => [new Measurement<int>(_connections.Count, s_none)]);
        metrics.ObserveGauge<long>("relay.connections.queued", "By", "Encoded bytes waiting to be sent, over all connections",
            () => [new Measurement<long>(_connections.Open.Sum(c => c.QueuedBytes), s_none)]);
        metrics.ObserveGauge<long>("relay.connections.queued.max", "By", "Encoded bytes waiting for the most backed-up connection",
            () => [new Measurement<long>(_connections.Open.Select(c => c.QueuedBytes).DefaultIfEmpty().Max(), s_none)]);
        metrics.ObserveGauge<long>("relay.client.lag.max", "{event}", "Per topic: head minus the watermark queued for the furthest-behind subscriber",
            () => Lag(lags => lags[^1]), RelayMetrics.TopicTag);
        metrics.ObserveGauge<long>("relay.client.lag.p95", "{event}", "Per topic: the 95th percentile over subscribers of head minus their queued watermark",
            () => Lag(Percentile95), RelayMetrics.TopicTag);
    }

    /// <summary>The nearest-rank 95th percentile of sorted values.</summary>
    public static long Percentile95(long[] sorted) => sorted[(int)Math.Ceiling(0.95 * sorted.Length) - 1];

    /// <summary>Per topic of this relay: its subscribers' lags, sorted.</summary>
    public Dictionary<string, long[]> Lags()
    {
        var lags = _logs.All.ToDictionary(log => log.Topic, _ => new List<long>(), StringComparer.Ordinal);
        foreach (var connection in _connections.Open)
        {
            foreach (var (topic, through) in connection.Positions())
            {
                if (lags.TryGetValue(topic, out var list))
                {
                    list.Add(Math.Max(0, (_logs.Find(topic)?.Head ?? 0) - through));
                }
            }
        }
        return lags.ToDictionary(pair => pair.Key, pair => pair.Value.Order().ToArray(), StringComparer.Ordinal);
    }

    private IEnumerable<Measurement<long>> Lag(Func<long[], long> summarize) =>
        Lags().Select(pair => new Measurement<long>(
            pair.Value.Length == 0 ? 0 : summarize(pair.Value), new KeyValuePair<string, object?>(RelayMetrics.TopicTag, pair.Key)));
}
