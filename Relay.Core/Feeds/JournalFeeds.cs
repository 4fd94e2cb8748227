using Microsoft.Extensions.Logging;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Core.Feeds;

/// <summary>Creates the feed named by <c>Relay:Feed</c>.</summary>
public static class JournalFeeds
{
    /// <summary>The default feed: logical replication.</summary>
    public const string Replication = "replication";

    /// <summary>The feed for databases where replication is not allowed: LISTEN/NOTIFY.</summary>
    public const string Notify = "notify";

    /// <summary>A <see cref="NotifyFeed"/> for <c>notify</c>, else a <see cref="ReplicationFeed"/>.</summary>
    public static JournalFeed Create(
        string feed, string connectionString, JournalReader journal, TopicLogs logs, FeedOptions options, RelayMetrics metrics, ILoggerFactory loggers) =>
        feed == Notify
            ? new NotifyFeed(connectionString, journal, logs, options, metrics, loggers.CreateLogger<NotifyFeed>())
            : new ReplicationFeed(connectionString, logs, options, metrics, loggers.CreateLogger<ReplicationFeed>());
}
