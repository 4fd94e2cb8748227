using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Relay.Core.Auth;

/// <summary>
/// The RS256 keys of <see cref="AuthOptions.JwksFile"/>, reloaded when the file changes. Each lookup may look at the
/// file's write time and size, at most once per <see cref="CheckInterval"/>: one stat a second, on whichever request
/// comes first, and no watcher (FileSystemWatcher misses the symlink swaps of mounted secrets and editors' renames).
/// A file that cannot be read or parsed at reload keeps the previous keys.
/// </summary>
internal sealed partial class JwksKeySet
{
    /// <summary>How often the file is looked at, at most.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly JwksParser _parser;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _reloadLock = new();
    private volatile Snapshot _snapshot;
    private long _lastCheck;

    /// <summary>Loads the file.</summary>
    /// <exception cref="AuthConfigurationException">The file is missing, unreadable, or has no usable key.</exception>
    public JwksKeySet(string path, JwksParser parser, TimeProvider timeProvider, ILogger logger)
    {
        _path = Path.GetFullPath(path);
        _parser = parser;
        _timeProvider = timeProvider;
        _logger = logger;
        var stamp = FileStamp.Of(_path);
        var keys = TryLoad(out var error) ?? throw new AuthConfigurationException($"{AuthOptions.Section}:JwksFile: {_path}: {error}");
        if (keys.Count == 0)
        {
            throw new AuthConfigurationException($"{AuthOptions.Section}:JwksFile: {_path} has no usable RS256 signing key");
        }
        _snapshot = new Snapshot(keys, stamp);
        _lastCheck = timeProvider.GetTimestamp();
        Log.Loaded(_logger, _path, keys.Count, string.Join(", ", keys.Keys));
    }

    /// <summary>The validation parameters of the key named <paramref name="kid"/>, after a reload if the file changed.</summary>
    public TokenValidationParameters? Find(string kid)
    {
        var now = _timeProvider.GetTimestamp();
        if (_timeProvider.GetElapsedTime(Interlocked.Read(ref _lastCheck), now) >= CheckInterval && _reloadLock.TryEnter())
        {
            // Whoever holds the lock checks; the others go on with the keys they have.
            try
            {
                Interlocked.Exchange(ref _lastCheck, now);
                ReloadIfChanged();
            }
            finally
            {
                _reloadLock.Exit();
            }
        }
        return _snapshot.Keys.GetValueOrDefault(kid);
    }

    private void ReloadIfChanged()
    {
        var current = _snapshot;
        var stamp = FileStamp.Of(_path);
        if (stamp == current.Stamp)
        {
            return;
        }
        if (TryLoad(out var error) is { } keys)
        {
            _snapshot = new Snapshot(keys, stamp);
            Log.Reloaded(_logger, _path, keys.Count, string.Join(", ", keys.Keys));
        }
        else
        {
            // Remember the stamp anyway: a broken file is reported once, not every second.
            _snapshot = current with { Stamp = stamp };
            Log.ReloadFailed(_logger, _path, error, current.Keys.Count);
        }
    }

    private FrozenDictionary<string, TokenValidationParameters>? TryLoad(out string? error)
    {
        string json;
        try
        {
            json = File.ReadAllText(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
        var keys = _parser.Parse(json, out error, (kid, reason) => Log.KeyIgnored(_logger, _path, kid, reason));
        return keys;
    }

    private sealed record Snapshot(FrozenDictionary<string, TokenValidationParameters> Keys, FileStamp Stamp);

    private readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
    {
        public static FileStamp Of(string path)
        {
            var file = new FileInfo(path);
            return file.Exists ? new FileStamp(file.LastWriteTimeUtc, file.Length) : new FileStamp(DateTime.MinValue, -1);
        }
    }
}
