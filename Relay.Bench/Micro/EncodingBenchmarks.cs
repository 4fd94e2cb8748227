using BenchmarkDotNet.Attributes;
using OpenAgents.Sync.V1;
using Relay.Host.Sync;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Bench.Micro;

/// <summary>Encoding one 200-update batch (~200 KB of payloads) per framing, and mapping journal events to it.</summary>
[MemoryDiagnoser]
public class EncodingBenchmarks
{
    private readonly Relay.Core.Subscriptions.EventBatch _events = Batches.RunSummaries();
    private readonly ServerEnvelope _batch = UpdateMapper.ToEnvelope(Batches.RunSummaries());

    [Benchmark]
    public ServerEnvelope MapEvents() => UpdateMapper.ToEnvelope(_events);

    [Benchmark(Baseline = true)]
    public byte[] Binary() => ProtoFraming.Encode(_batch);

    [Benchmark]
    public byte[] Json() => JsonFraming.Encode(_batch);

    [Benchmark]
    public byte[] Phoenix() => PhoenixFraming.Encode(_batch, joinRef: null);
}
