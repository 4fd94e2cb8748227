using System.Diagnostics;
using System.Runtime.ExceptionServices;
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
/// <para>
/// Writes are coalesced: <see cref="SetAsync"/> changes the state in memory and returns; the file is written in the
/// background, at once when the last write is older than the save interval, otherwise when it is that old, with every
/// change made meanwhile. A write costs what the whole state costs to serialize, so one per batch would hold a client
/// with many documents far below its relay's rate. What a crash loses is at most an interval's progress, which the
/// relay sends again from the saved watermarks. <see cref="FlushAsync"/> writes at once (the client flushes when it is
/// disposed); a failed write is thrown by the next <see cref="SetAsync"/> or <see cref="FlushAsync"/>, and the next
/// <see cref="SetAsync"/> tries again.
/// </para>
/// </summary>
public sealed class FileWatermarkStore : IWatermarkStore
{
    /// <summary>The default least time between two writes of the file.</summary>
    public static readonly TimeSpan DefaultSaveInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    private readonly string _path;
    private readonly TimeSpan _saveInterval;
    // _lock guards the state in memory and is held only briefly; _writeLock is held for a whole write, and is taken
    // first: a write takes its snapshot under _lock, and a load waits for the write in progress (below).
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Dictionary<string, ResumePoint>? _points;
    private SyncIdentity? _identity;
    private bool _unsaved;
    // Whether SetAsync has stored anything of the identity in force: until it has, the cache may still hold another
    // identity's documents (the client clears it after the load), and even a flush writes nothing.
    private bool _stored;
    private bool _saving;
    // Stopwatch timestamp of the last write; 0 until the first (a timestamp counts from the machine's start, so 0 taken
    // as a time held the first write back while the machine had been up for less than the save interval).
    private long _lastWrite;
    private Exception? _failure;

    /// <summary>
    /// A store in <paramref name="path"/> for the documents of <paramref name="cache"/>; the file is created on the
    /// first write, and written at most once per <paramref name="saveInterval"/> (default
    /// <see cref="DefaultSaveInterval"/>; zero writes again as soon as the last write is done).
    /// </summary>
    public FileWatermarkStore(string path, DocumentCache cache, TimeSpan? saveInterval = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfLessThan(saveInterval ?? TimeSpan.Zero, TimeSpan.Zero, nameof(saveInterval));
        _path = Path.GetFullPath(path);
        _saveInterval = saveInterval ?? DefaultSaveInterval;
        Cache = cache;
    }

    /// <summary>The cache whose documents are saved with the watermarks.</summary>
    public DocumentCache Cache { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The file is not a saved state, or the state of this identity is damaged.</exception>
    public async ValueTask<bool> LoadAsync(SyncIdentity? identity, CancellationToken cancellationToken = default)
    {
        // A write in progress reads the cache, which the client clears when the identity changes: it ends first, so
        // that no file labelled with one identity holds another's documents.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                return await LoadLockedAsync(identity, cancellationToken);
            }
            finally
            {
                _lock.Release();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<bool> LoadLockedAsync(SyncIdentity? identity, CancellationToken cancellationToken)
    {
        if (_points is not null)
        {
            // Loaded already: the state in memory is the identity's that was loaded last (the file holds it or an older copy).
            var same = identity == _identity;
            if (!same)
            {
                // Nothing of the other identity is written from now on: the next write is of this one's state.
                _points = new Dictionary<string, ResumePoint>(StringComparer.Ordinal);
                _unsaved = false;
                _stored = false;
            }
            _identity = identity;
            return same;
        }
        var kept = true;
        var points = new Dictionary<string, ResumePoint>(StringComparer.Ordinal);
        if (File.Exists(_path))
        {
            try
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
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // Cut short, or a member missing or of another JSON type: damaged, as the documented exception says.
                throw new InvalidDataException($"{_path} is not a saved sync state ({e.Message}): delete it to sync from scratch", e);
            }
        }
        _points = points;
        _identity = identity;
        return kept;
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

    /// <summary>
    /// Stores each topic's resume point of <paramref name="points"/> in memory and has the file written (see the class
    /// remarks): the cache must already hold every document up to them.
    /// </summary>
    /// <exception cref="IOException">The last write failed (or another exception it threw): these points are kept and written with the next.</exception>
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
            _unsaved = true;
            _stored = true;
            if (!_saving)
            {
                _saving = true;
                _ = Task.Run(SaveInBackgroundAsync, CancellationToken.None);
            }
            ThrowFailure();
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Writes the state now, after a write in progress: the resume points stored and the cache's documents as they are
    /// (the client flushes after it drops documents, which the store cannot see). Nothing until <see cref="SetAsync"/>
    /// has stored a resume point of the identity loaded.
    /// </summary>
    /// <exception cref="IOException">The write failed (or another exception it threw).</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await WriteAsync(always: true, cancellationToken);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            ThrowFailure();
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Writes while there are changes, no sooner than the save interval after the last write; ends at the first failure.</summary>
    private async Task SaveInBackgroundAsync()
    {
        while (true)
        {
            var wait = _saveInterval - SinceLastWrite();
            if (wait > TimeSpan.Zero)
            {
                // Task.Delay takes at most about 49 days; a longer interval waits in steps (the loop looks again).
                await Task.Delay(wait < MaxDelay ? wait : MaxDelay);
            }
            await _lock.WaitAsync();
            try
            {
                if (!_unsaved || _failure is not null)
                {
                    // The next SetAsync starts another (and reports the failure).
                    _saving = false;
                    return;
                }
            }
            finally
            {
                _lock.Release();
            }
            try
            {
                await WriteAsync(always: false, CancellationToken.None);
            }
            catch (Exception failure)
            {
                await _lock.WaitAsync();
                _failure = failure;
                _lock.Release();
            }
        }
    }

    /// <summary>
    /// Writes the state in memory if it changed since the last write and the save interval has passed since it, or
    /// <paramref name="always"/>. Its resume points
    /// are taken before the cache is read, so the file holds every document up to them (and maybe newer ones, which are
    /// applied again harmlessly).
    /// </summary>
    private async Task WriteAsync(bool always, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            SyncIdentity? identity;
            Dictionary<string, ResumePoint> points;
            await _lock.WaitAsync(cancellationToken);
            try
            {
                // A background write whose wait ended before a flush wrote (it may run late on a busy machine) waits
                // for the interval again, from that flush.
                if ((!_unsaved && !(always && _stored))
                    || (!always && SinceLastWrite() < _saveInterval))
                {
                    return;
                }
                _unsaved = false;
                _failure = null;
                identity = _identity;
                points = new Dictionary<string, ResumePoint>(Loaded(), StringComparer.Ordinal);
            }
            finally
            {
                _lock.Release();
            }
            Interlocked.Exchange(ref _lastWrite, Stopwatch.GetTimestamp());
            try
            {
                await WriteFileAsync(identity, points);
            }
            catch
            {
                await _lock.WaitAsync(CancellationToken.None);
                _unsaved = true;
                _lock.Release();
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteFileAsync(SyncIdentity? identity, Dictionary<string, ResumePoint> points)
    {
        var temporary = _path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await using (var json = new Utf8JsonWriter(file))
            {
                PersistedState.Write(json, identity, points, Cache);
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }

    private TimeSpan SinceLastWrite() =>
        Interlocked.Read(ref _lastWrite) is var last and not 0 ? Stopwatch.GetElapsedTime(last) : TimeSpan.MaxValue;

    private void ThrowFailure()
    {
        if (_failure is { } failure)
        {
            _failure = null;
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private Dictionary<string, ResumePoint> Loaded() =>
        _points ?? throw new InvalidOperationException($"{_path}: LoadAsync the state of an identity before reading or writing it");
}
