using System.Collections.Concurrent;
using Relay.Core.Diagnostics;

namespace Relay.Host.Sync;

/// <summary>
/// Logs refused upgrades and joins at most once per <see cref="Window"/> for each kind of request and reason, with how
/// many more there were, so that a client retrying with an expired token shows in the log without flooding it.
/// </summary>
internal sealed partial class RefusalLog(ILogger<RefusalLog> logger)
{
    /// <summary>At most one line per reason this often: 10 seconds.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string What, string Reason), Episode> _episodes = new();

    /// <summary>Records one refusal of <paramref name="what"/> (an upgrade, a join) for <paramref name="reason"/>.</summary>
    public void Refused(string what, string reason)
    {
        var episode = _episodes.GetOrAdd((what, reason), static _ => new Episode());
        long more;
        lock (episode)
        {
            var now = Environment.TickCount64;
            if (episode.LoggedAt is { } loggedAt && now - loggedAt < (long)Window.TotalMilliseconds)
            {
                episode.Since++;
                return;
            }
            more = episode.Since;
            episode.Since = 0;
            episode.LoggedAt = now;
        }
        Log.Refused(logger, what, reason, more);
    }

    private sealed class Episode
    {
        public long? LoggedAt { get; set; }

        public long Since { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Host + 29, LogLevel.Warning, "Refused {What}: {Reason} ({More} more of these since the last such line)")]
        public static partial void Refused(ILogger logger, string what, string reason, long more);
    }
}
