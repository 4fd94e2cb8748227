using BenchmarkDotNet.Attributes;
using Relay.Core.Subscriptions;
using Relay.Host.Sync;
using Relay.Protocol;

namespace Relay.Bench.Micro;

/// <summary>
/// Handing one live batch to N subscribers: through the shared frame cache (one encoding, N lookups) against encoding it
/// for each subscriber, the cost the cache avoids.
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    private readonly Relay.Core.Subscriptions.EventBatch _batch = Batches.RunSummaries();

    [Params(100, 1000)]
    public int Subscribers { get; set; }

    [Benchmark(Baseline = true)]
    public long EncodeEach()
    {
        long bytes = 0;
        for (var i = 0; i < Subscribers; i++)
        {
            bytes += ProtoFraming.Encode(UpdateMapper.ToEnvelope(_batch)).Length;
        }
        return bytes;
    }

    [Benchmark]
    public long SharedFrame()
    {
        var cache = new BatchFrameCache();
        var key = new BatchFrameCache.BatchKey("proto", _batch.Topic, "epoch", 0, _batch.Through, SubscriptionPhase.Live, "org-1",
            BatchFrameCache.BatchKey.FingerprintOf(_batch.Events));
        long bytes = 0;
        for (var i = 0; i < Subscribers; i++)
        {
            bytes += cache.GetOrEncode(key, static batch => ProtoFraming.Encode(UpdateMapper.ToEnvelope(batch)), _batch).Length;
        }
        return bytes;
    }
}
