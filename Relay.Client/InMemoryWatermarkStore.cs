using System.Collections.Concurrent;

namespace Relay.Client;

/// <summary>Resume points kept in memory only: a new process starts again from its initial watermarks.</summary>
public sealed class InMemoryWatermarkStore : IWatermarkStore
{
    private readonly ConcurrentDictionary<string, ResumePoint> _points = new(StringComparer.Ordinal);

    /// <summary>An empty store, or one holding <paramref name="initial"/> watermarks (of no particular epoch).</summary>
    public InMemoryWatermarkStore(IReadOnlyDictionary<string, long>? initial = null)
    {
        foreach (var (topic, watermark) in initial ?? new Dictionary<string, long>())
        {
            _points[topic] = new ResumePoint(watermark);
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
