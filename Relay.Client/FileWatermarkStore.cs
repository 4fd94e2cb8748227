using System.Text.Json;

namespace Relay.Client;

/// <summary>
/// Resume points and the documents of a <see cref="DocumentCache"/>, together in one JSON file
/// (<c>{"watermarks": {topic: watermark}, "epochs": {topic: epoch}, "documents": {topic: [document, …]}}</c>), so that a restarted client never
/// resumes past documents it no longer holds. Every write replaces the whole file atomically: it is written and flushed
/// to a temporary file beside it, then moved over the old one, so a crash leaves either the old or the new content.
/// Pass the same cache in <see cref="RelayClientOptions.Cache"/>; its documents are restored from the file on the
/// first read, before the client subscribes.
/// </summary>
public sealed class FileWatermarkStore : IWatermarkStore
{
    private readonly string _path;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Dictionary<string, ResumePoint>? _points;

    /// <summary>A store in <paramref name="path"/> for the documents of <paramref name="cache"/>; the file is created on the first write.</summary>
    public FileWatermarkStore(string path, DocumentCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _path = Path.GetFullPath(path);
        Cache = cache;
    }

    /// <summary>The cache whose documents are saved with the watermarks.</summary>
    public DocumentCache Cache { get; }

    /// <inheritdoc />
    public async ValueTask<ResumePoint> GetAsync(string topic, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return (await LoadAsync(cancellationToken)).GetValueOrDefault(topic, ResumePoint.Start);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(IReadOnlyDictionary<string, ResumePoint> points, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var all = await LoadAsync(cancellationToken);
            foreach (var (topic, point) in points)
            {
                all[topic] = point;
            }
            var temporary = _path + ".tmp";
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await using (var json = new Utf8JsonWriter(file))
                {
                    PersistedState.Write(json, all, Cache);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, _path, overwrite: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask<Dictionary<string, ResumePoint>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_points is null)
        {
            if (File.Exists(_path))
            {
                await using var file = File.OpenRead(_path);
                using var json = await JsonDocument.ParseAsync(file, cancellationToken: cancellationToken);
                _points = PersistedState.Read(json.RootElement, Cache, _path);
            }
            _points ??= new Dictionary<string, ResumePoint>(StringComparer.Ordinal);
        }
        return _points;
    }
}
