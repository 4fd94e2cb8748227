using System.Text;
using BenchmarkDotNet.Attributes;
using Relay.Client;

namespace Relay.Bench.Micro;

/// <summary>
/// What a batch costs a <see cref="RelayClient"/> with a <see cref="FileWatermarkStore"/> holding 25,700 ~160-byte
/// documents (a 4 MB file): the store's <c>SetAsync</c> after the batch is applied, which the client awaits before it
/// reads the next frame. Baseline: the same with a flush after it, that is, the whole file written per batch (how the
/// store saved until 2026-12-03). docs/benchmarks.md has the figures.
/// </summary>
[MemoryDiagnoser]
public class WatermarkStoreBenchmarks
{
    private const int Documents = 25_700;
    private readonly DocumentCache _cache = new();
    private DirectoryInfo _directory = null!;
    private FileWatermarkStore _store = null!;
    private long _watermark;

    [GlobalSetup]
    public async Task Setup()
    {
        _directory = Directory.CreateTempSubdirectory("relay-bench-store-");
        for (var i = 0; i < Documents; i++)
        {
            _cache.Apply("bench.store", Document(i, 1));
        }
        _store = new FileWatermarkStore(Path.Combine(_directory.FullName, "state.json"), _cache);
        await _store.LoadAsync(new SyncIdentity("org-1", "bench"));
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _store.FlushAsync();
        _directory.Delete(recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task WholeFilePerBatch()
    {
        await ApplyBatchAsync();
        await _store.FlushAsync();
    }

    [Benchmark]
    public Task Coalesced() => ApplyBatchAsync();

    private async Task ApplyBatchAsync()
    {
        _watermark++;
        _cache.Apply("bench.store", Document((int)(_watermark % Documents), _watermark + 1));
        await _store.SetAsync(new Dictionary<string, ResumePoint> { ["bench.store"] = new(_watermark, "bench") });
    }

    private static CachedDocument Document(int key, long version) =>
        new($"run-{key:D6}", version, Encoding.UTF8.GetBytes($"{{\"status\":\"running\",\"step\":{version},\"owner\":\"team-{key % 40}\",\"note\":\"{new string('x', 80)}\"}}"), new byte[32], Deleted: false);
}
