using System.Collections.Concurrent;

namespace Relay.Client;

/// <summary>
/// Resume points kept in memory only: a new process starts again from its initial watermarks. The first identity
/// loaded takes the initial watermarks (they are the caller's, in this process); another identity loaded later starts
/// from scratch.
/// </summary>
public sealed class InMemoryWatermarkStore : IWatermarkStore
{
    private readonly ConcurrentDictionary<string, ResumePoint> _points = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _loaded;
    private SyncIdentity? _identity;

    /// <summary>An empty store, or one holding <paramref name="initial"/> watermarks (of no particular epoch).</summary>
    public InMemoryWatermarkStore(IReadOnlyDictionary<string, long>? initial = null)
    {
        foreach (var (topic, watermark) in initial ?? new Dictionary<string, long>())
        {
            _points[topic] = new ResumePoint(watermark);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> LoadAsync(SyncIdentity? identity, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var kept = !_loaded || identity == _identity;
            if (!kept)
            {
                _points.Clear();
            }
            _loaded = true;
            _identity = identity;
            return ValueTask.FromResult(kept);
        }
    }

    /// <inheritdoc />
    public ValueTask<ResumePoint> GetAsync(string topic, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_points.GetValueOrDefault(topic, ResumePoint.Start));

    /// <inheritdoc />
    public ValueTask SetAsync(IReadOnlyDictionary<string, ResumePoint> points, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        foreach (var (topic, point) in points)
        {
            _points[topic] = point;
        }
        return ValueTask.CompletedTask;
    }
}
