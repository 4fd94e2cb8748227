using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Relay.Core.Auth;

/// <summary>
/// The RS256 and ES256 keys of <see cref="AuthOptions.JwksFile"/>, reloaded when the file changes. Each lookup may read the file
/// (a few kilobytes) and compare it with what was last read, at most once per <see cref="CheckInterval"/>: one read a
/// second, on whichever request comes first, and no watcher. Comparing what is read, not the file's write time, sees a
/// change however it was made: an edit in place, an editor's rename-on-save, or the symlink swap of a mounted
/// Kubernetes secret (whose link's own time and size never change). A reload that cannot be read, is no JWKS, or holds
/// no usable key keeps the previous keys, as at start such a file is refused.
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
        var text = TryRead(out var error);
        var keys = Load(text, ref error) ?? throw new AuthConfigurationException($"{AuthOptions.Section}:JwksFile: {_path}: {error}");
        _snapshot = new Snapshot(keys, text);
        _lastCheck = timeProvider.GetTimestamp();
        Log.Loaded(_logger, _path, keys.Count, Describe(keys));
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
        var text = TryRead(out var error);
        if (text == current.Text)
        {
            return;
        }
        if (Load(text, ref error) is { } keys)
        {
            _snapshot = new Snapshot(keys, text);
            Log.Reloaded(_logger, _path, keys.Count, Describe(keys));
        }
        else
        {
            // Remember what was read anyway: a broken file is reported once, not every second.
            _snapshot = current with { Text = text };
            Log.ReloadFailed(_logger, _path, error, current.Keys.Count);
        }
    }

    /// <summary>The file's text, or null with <paramref name="error"/>.</summary>
    private string? TryRead(out string? error)
    {
        try
        {
            error = null;
            return File.ReadAllText(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>The usable keys of <paramref name="text"/>; null, with <paramref name="error"/>, when there are none.</summary>
    private FrozenDictionary<string, TokenValidationParameters>? Load(string? text, ref string? error)
    {
        if (text is null)
        {
            return null;
        }
        var keys = _parser.Parse(text, out error, (kid, reason) => Log.KeyIgnored(_logger, _path, kid, reason));
        if (keys is { Count: 0 })
        {
            error = "it has no usable signing key (RSA for RS256, or EC on P-256 for ES256)";
            return null;
        }
        return keys;
    }

    /// <summary>Each kid with its algorithm, for the log: an operator checks a rotation by it.</summary>
    private static string Describe(FrozenDictionary<string, TokenValidationParameters> keys) =>
        string.Join(", ", keys.Select(key => $"{key.Key} ({key.Value.ValidAlgorithms.Single()})"));

    /// <param name="Keys">The keys in force.</param>
    /// <param name="Text">What the file held at the last check (null when it could not be read), whether its keys were taken or not.</param>
    private sealed record Snapshot(FrozenDictionary<string, TokenValidationParameters> Keys, string? Text);
}
