using System.Collections.Concurrent;

namespace Relay.Client;

/// <summary>Watermarks kept in memory only: a new process starts again from its initial watermarks.</summary>
public sealed class InMemoryWatermarkStore : IWatermarkStore
{
    private readonly ConcurrentDictionary<string, long> _watermarks = new(StringComparer.Ordinal);

    /// <summary>An empty store, or one holding <paramref name="initial"/>.</summary>
    public InMemoryWatermarkStore(IReadOnlyDictionary<string, long>? initial = null)
    {
        foreach (var (topic, watermark) in initial ?? new Dictionary<string, long>())
        {
            _watermarks[topic] = watermark;
        }
    }

    /// <inheritdoc />
    public ValueTask<long> GetAsync(string topic, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_watermarks.GetValueOrDefault(topic));

    /// <inheritdoc />
    public ValueTask SetAsync(IReadOnlyDictionary<string, long> watermarks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(watermarks);
        foreach (var (topic, watermark) in watermarks)
        {
            _watermarks[topic] = watermark;
        }
        return ValueTask.CompletedTask;
    }
}
