using System.Collections.Concurrent;
using System.Diagnostics;

namespace Relay.Bench.E2E;

/// <summary>
/// When each (topic, watermark) was committed, as the writer saw it: the moment its commit returned (or, for the raw
/// baseline, the moment the frame was handed to the server). Topics are numbered by their index in <see cref="Topics"/>,
/// which clients subscribe to in the same order.
/// </summary>
internal sealed class CommitLog(params string[] topics)
{
    private readonly ConcurrentDictionary<long, long> _committed = new();
    private readonly ConcurrentQueue<(int Topic, long Last, long At)> _transactions = new();

    public string[] Topics { get; } = topics;

    public int Count => _committed.Count;

    /// <summary>The key of a topic's watermark: watermarks stay below 2^40.</summary>
    public static long Key(int topic, long watermark) => ((long)topic << 40) | watermark;

    public void Add(int topic, IReadOnlyList<long> watermarks, long at)
    {
        foreach (var watermark in watermarks)
        {
            _committed[Key(topic, watermark)] = at;
        }
        _transactions.Enqueue((topic, watermarks[^1], at));
    }

    /// <summary>When a watermark's commit returned, if it is in this log.</summary>
    public bool TryGet(long key, out long at) => _committed.TryGetValue(key, out at);

    /// <summary>Per topic, when each transaction since the last call returned, in commit (watermark) order.</summary>
    public ILookup<int, long> TakeTransactions()
    {
        var taken = new List<(int Topic, long Last, long At)>();
        while (_transactions.TryDequeue(out var transaction))
        {
            taken.Add(transaction);
        }
        return taken.OrderBy(t => t.Last).ToLookup(t => t.Topic, t => t.At);
    }

    /// <summary>Commit→client latencies of what recording clients received, forgetting those records.</summary>
    public Percentiles Latencies(IEnumerable<BenchClient> clients)
    {
        var latencies = new Percentiles();
        foreach (var client in clients)
        {
            foreach (var (key, received) in client.TakeReceived())
            {
                if (TryGet(key, out var at))
                {
                    latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, received).TotalMilliseconds));
                }
            }
        }
        return latencies;
    }
}
