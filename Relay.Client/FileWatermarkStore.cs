using System.Text.Json;

namespace Relay.Client;

/// <summary>
/// Resume points and the documents of a <see cref="DocumentCache"/>, together in one JSON file with the identity they
/// belong to (<c>{"identity": {"org", "subject"}, "watermarks": {topic: watermark}, "epochs": {topic: epoch},
/// "documents": {topic: [document, …]}}</c>), so that a restarted client never resumes past documents it no longer
/// holds, and never shows or resumes another identity's. Every write replaces the whole file atomically: it is written
/// and flushed to a temporary file beside it, then moved over the old one, so a crash leaves either the old or the new
/// content. Pass the same cache in <see cref="RelayClientOptions.Cache"/>; <see cref="LoadAsync"/> restores its
/// documents from the file when the file was written under the same identity, and discards the file's state otherwise
/// (another identity, or none recorded: an older client wrote it); the next write replaces it.
/// </summary>
public sealed class FileWatermarkStore : IWatermarkStore
{
    private readonly string _path;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Dictionary<string, ResumePoint>? _points;
    private SyncIdentity? _identity;

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
    /// <exception cref="InvalidDataException">The file is not a saved state, or the state of this identity is damaged.</exception>
    public async ValueTask<bool> LoadAsync(SyncIdentity? identity, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_points is not null)
            {
                // Loaded already: the state in memory is the identity's that was loaded last (the file holds it or an older copy).
                var same = identity == _identity;
                if (!same)
                {
                    _points = new Dictionary<string, ResumePoint>(StringComparer.Ordinal);
                }
                _identity = identity;
                return same;
            }
            var kept = true;
            var points = new Dictionary<string, ResumePoint>(StringComparer.Ordinal);
            if (File.Exists(_path))
            {
                await using var file = File.OpenRead(_path);
                using var json = await JsonDocument.ParseAsync(file, cancellationToken: cancellationToken);
                var saved = PersistedState.ReadIdentity(json.RootElement, _path);
                kept = saved is not null && saved == identity;
                if (kept)
                {
                    points = PersistedState.Read(json.RootElement, Cache, _path);
                }
            }
            _points = points;
            _identity = identity;
            return kept;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<ResumePoint> GetAsync(string topic, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return Loaded().GetValueOrDefault(topic, ResumePoint.Start);
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
            var all = Loaded();
            foreach (var (topic, point) in points)
            {
                all[topic] = point;
            }
            var temporary = _path + ".tmp";
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await using (var json = new Utf8JsonWriter(file))
                {
                    PersistedState.Write(json, _identity, all, Cache);
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

    private Dictionary<string, ResumePoint> Loaded() =>
        _points ?? throw new InvalidOperationException($"{_path}: LoadAsync the state of an identity before reading or writing it");
}
