using Microsoft.Extensions.Logging;
using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Core.Feeds;

/// <summary>
/// Tails the journal where logical replication is not allowed: LISTENs to the journal's wake-ups and reads
/// <c>watermark &gt; head</c> of the woken topic in bounded batches (commit order is watermark order, so that read never
/// skips an event), and polls every topic's head as a safety net for a lost wake-up. It turns <c>notify</c> on for the
/// topics it serves and says so in its log.
/// </summary>
public sealed partial class NotifyFeed(
    string connectionString, JournalReader journal, TopicLogs logs, FeedOptions options, RelayMetrics metrics, ILogger<NotifyFeed> logger)
    : JournalFeed("notify", logs, options, metrics, logger)
{
    private readonly HashSet<string> _served = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async ValueTask<FeedSession> ConnectAsync(CancellationToken cancellationToken)
    {
        var listener = new NpgsqlConnection(connectionString);
        try
        {
            await listener.OpenAsync(cancellationToken);
            await using (var listen = new NpgsqlCommand($"LISTEN {FeedOptions.NotifyChannel}", listener))
            {
                await listen.ExecuteNonQueryAsync(cancellationToken);
            }
            _served.Clear();
            await ServeAsync(listener, cancellationToken);
            return new Session(this, listener);
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }
    }

    /// <summary>Turns wake-ups on for topics not served yet, then brings every log level with its head.</summary>
    private async Task ServeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var topics = await JournalReader.ReadTopicsAsync(connection, cancellationToken);
        var fresh = topics.Select(t => t.Topic).Where(_served.Add).ToArray();
        if (fresh.Length > 0)
        {
            await using var enable = new NpgsqlCommand(
                "UPDATE relay.topics SET notify = true WHERE topic = ANY($1) AND NOT notify RETURNING topic", connection);
            enable.Parameters.AddWithValue(fresh);
            await using var reader = await enable.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                Log.NotifyEnabled(Logger, reader.GetString(0));
            }
        }
        await Logs.SyncAsync(topics, cancellationToken);
    }

    private async Task CatchUpAsync(string topic, CancellationToken cancellationToken)
    {
        var log = Logs.GetOrAdd(topic, 0);
        while (true)
        {
            var events = await journal.ReadAsync(topic, log.Head, long.MaxValue, Options.NotifyReadBatch, int.MaxValue, cancellationToken);
            await Logs.AppendAsync(events, cancellationToken);
            if (events.Count < Options.NotifyReadBatch)
            {
                return;
            }
        }
    }

    private sealed class Session(NotifyFeed feed, NpgsqlConnection listener) : FeedSession
    {
        private readonly HashSet<string> _woken = new(StringComparer.Ordinal);

        public override async Task FollowAsync(CancellationToken cancellationToken)
        {
            // Raised on this task while WaitAsync reads the connection.
            listener.Notification += (_, e) => _woken.Add(e.Payload);
            while (true)
            {
                if (!await listener.WaitAsync(feed.Options.NotifyPollInterval, cancellationToken))
                {
                    await feed.ServeAsync(listener, cancellationToken);
                    continue;
                }
                var woken = _woken.ToArray();
                _woken.Clear();
                foreach (var topic in woken)
                {
                    await feed.CatchUpAsync(topic, cancellationToken);
                }
            }
        }

        public override ValueTask DisposeAsync() => listener.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Feed + 30, LogLevel.Information, "Turned NOTIFY wake-ups on for topic {Topic}: the notify feed serves it")]
        public static partial void NotifyEnabled(ILogger logger, string topic);
    }
}
