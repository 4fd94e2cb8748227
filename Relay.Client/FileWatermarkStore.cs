using System.Text.Json;

namespace Relay.Client;

/// <summary>
/// Watermarks in a JSON file (<c>{"topic": watermark, …}</c>). Every write replaces the whole file atomically:
/// it is written and flushed to a temporary file beside it, then moved over the old one, so a crash leaves
/// either the old or the new content, never half of one.
/// </summary>
public sealed class FileWatermarkStore : IWatermarkStore
{
    private readonly string _path;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Dictionary<string, long>? _watermarks;

    /// <summary>A store in <paramref name="path"/>; the file is created on the first write.</summary>
    public FileWatermarkStore(string path) => _path = Path.GetFullPath(path);

    /// <inheritdoc />
    public async ValueTask<long> GetAsync(string topic, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return (await LoadAsync(cancellationToken)).GetValueOrDefault(topic);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(IReadOnlyDictionary<string, long> watermarks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(watermarks);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var all = await LoadAsync(cancellationToken);
            foreach (var (topic, watermark) in watermarks)
            {
                all[topic] = watermark;
            }
            var temporary = _path + ".tmp";
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await JsonSerializer.SerializeAsync(file, all, cancellationToken: cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, _path, overwrite: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask<Dictionary<string, long>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_watermarks is null)
        {
            if (File.Exists(_path))
            {
                await using var file = File.OpenRead(_path);
                _watermarks = await JsonSerializer.DeserializeAsync<Dictionary<string, long>>(file, cancellationToken: cancellationToken);
            }
            _watermarks ??= new Dictionary<string, long>(StringComparer.Ordinal);
        }
        return _watermarks;
    }
}
