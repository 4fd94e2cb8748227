using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Protocol.Hashing;

namespace Relay.Bench.Micro;

/// <summary>RFC 8785 canonicalisation and SHA-256 of a ~1 KB run summary and a ~64 KB document, in C#.</summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    private readonly byte[] _small = Encoding.UTF8.GetBytes(E2E.Documents.RunSummary(7, 3));
    private readonly byte[] _large = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(0, 64).Select(i => E2E.Documents.RunSummary(i, i))) + "]");

    [Benchmark(Baseline = true)]
    public byte[] RunSummary() => PayloadHash.Compute(_small);

    [Benchmark]
    public byte[] SixtyFourKilobytes() => PayloadHash.Compute(_large);
}
