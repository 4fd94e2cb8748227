using System.Diagnostics;
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
    /// <summary>When turning wake-ups on was last refused (no <c>UPDATE (notify)</c>), or null; tried again after 60 polls.</summary>
    private long? _notifyRefusedAt;

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
            _notifyRefusedAt = null;
            await ServeAsync(connecting: true, cancellationToken);
            return new Session(this, listener);
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Turns wake-ups on for topics not served yet, or whose wake-ups are off again (a topic dropped and created again),
    /// then brings every log level with its head. A topic row a writer holds locked for long (a long transaction
    /// publishing to a new topic) is waited for at most 200 ms and tried again at the next poll: waiting for it would
    /// stop every topic's delivery on this feed. Polling serves such a topic meanwhile.
    /// </summary>
    private async Task ServeAsync(bool connecting, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var topics = await JournalReader.ReadTopicsAsync(connection, cancellationToken);
        var refused = _notifyRefusedAt is { } at && Stopwatch.GetElapsedTime(at) < Options.NotifyPollInterval * 60;
        if (!refused)
        {
            // A topic dropped and created again since it was served has wake-ups off again: it is served anew.
            _served.ExceptWith(await ReadQuietTopicsAsync(connection, cancellationToken));
        }
        var fresh = topics.Select(t => t.Topic).Where(_served.Add).ToArray();
        if (fresh.Length > 0 && !refused)
        {
            await EnableAsync(connection, fresh, cancellationToken);
        }
        // At a poll, a head ahead of its log is a wake-up not handled yet, as a rule: not a gap, unlike what a log
        // missed while the feed was away.
        await Logs.SyncAsync(topics, gap: connecting, cancellationToken);
    }

    private static async Task<List<string>> ReadQuietTopicsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var quiet = new NpgsqlCommand("SELECT topic FROM relay.topics WHERE NOT notify", connection);
        await using var reader = await quiet.ExecuteReaderAsync(cancellationToken);
        var topics = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            topics.Add(reader.GetString(0));
        }
        return topics;
    }

    private async Task EnableAsync(NpgsqlConnection connection, string[] fresh, CancellationToken cancellationToken)
    {
        // Queued behind the topics' writers for at most a moment: a busy topic's row is locked nearly all the time, and
        // skipping it when locked left it on polling for as long as it stayed busy; a long transaction holding one is
        // waited for no longer than this, and the next poll tries again.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var timeout = new NpgsqlCommand("SET LOCAL lock_timeout = '200ms'", connection, transaction))
        {
            await timeout.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var enable = new NpgsqlCommand(
            "UPDATE relay.topics SET notify = true WHERE topic = ANY($1) AND NOT notify RETURNING topic", connection, transaction);
        enable.Parameters.AddWithValue(fresh);
        var enabled = new List<string>();
        try
        {
            await using (var reader = await enable.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    enabled.Add(reader.GetString(0));
                }
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Delivery still works, by polling: say once what would make it prompt, and try again in a while, so that
            // the grant it asks for takes effect without a restart.
            if (_notifyRefusedAt is null)
            {
                Log.NotifyRefused(Logger, e.MessageText, Options.NotifyPollInterval);
            }
            _notifyRefusedAt = Stopwatch.GetTimestamp();
            _served.ExceptWith(fresh);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            _served.ExceptWith(fresh);
            return;
        }
        enabled.ForEach(topic => Log.NotifyEnabled(Logger, topic));
        await using var check = new NpgsqlCommand("SELECT topic FROM relay.topics WHERE topic = ANY($1) AND NOT notify", connection);
        check.Parameters.AddWithValue(fresh);
        await using (var reader = await check.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // Locked by a writer, or turned off meanwhile: the next poll tries again.
                _served.Remove(reader.GetString(0));
            }
        }
    }

    private async Task CatchUpAsync(TopicLog log, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Until a page holds the rest: one cut by bytes (large documents) is not the end, and stopping there left
            // the rest to the next poll, logged as a gap.
            var page = await journal.ReadPageAsync(log.Topic, log.Head, long.MaxValue, Options.NotifyReadBatch, int.MaxValue, cancellationToken);
            await Logs.AppendAsync(page.Events, cancellationToken);
            if (!page.MayHaveMore)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The listener only collects wake-ups; a worker reads what they name. Wake-ups that arrive while the worker reads
    /// pile up in one set, so a busy topic costs one read per round, not one per commit.
    /// </summary>
    private sealed class Session(NotifyFeed feed, NpgsqlConnection listener) : FeedSession
    {
        private readonly HashSet<string> _woken = new(StringComparer.Ordinal);
        private readonly SemaphoreSlim _signal = new(0);
        private volatile bool _poll;

        public override async Task FollowAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            listener.Notification += (_, e) =>
            {
                lock (_woken)
                {
                    _woken.Add(e.Payload);
                }
                Signal();
            };
            var worker = WorkAsync(stop);
            try
            {
                // A poll every interval, wake-ups or not: a topic woken more often must not starve the others' poll.
                var sincePoll = Stopwatch.StartNew();
                while (!worker.IsCompleted)
                {
                    var untilPoll = feed.Options.NotifyPollInterval - sincePoll.Elapsed;
                    if (untilPoll <= TimeSpan.Zero || !await listener.WaitAsync(untilPoll, stop.Token))
                    {
                        if (untilPoll > TimeSpan.Zero)
                        {
                            await PingAsync(stop.Token);
                        }
                        _poll = true;
                        Signal();
                        sincePoll.Restart();
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Only the worker cancels the session from within, when it fails: its failure ends the session, below.
            }
            finally
            {
                await stop.CancelAsync();
                await worker.ContinueWith(_ => { }, TaskScheduler.Default);
            }
            await worker;
        }

        public override ValueTask DisposeAsync() => listener.DisposeAsync();

        /// <summary>
        /// The listener heard nothing for a whole poll interval. A connection that a NAT or a load balancer forgot, or
        /// whose host vanished without a close, says nothing for good: wake-ups would stop while the feed said it
        /// streamed, and the poll alone would deliver, up to an interval late. One round trip tells; one not answered
        /// within five intervals (1 to 30 s) ends the session, and the feed listens again on a new connection.
        /// </summary>
        private async Task PingAsync(CancellationToken cancellationToken)
        {
            await using var ping = new NpgsqlCommand("SELECT 1", listener)
            {
                CommandTimeout = (int)Math.Clamp(Math.Ceiling(feed.Options.NotifyPollInterval.TotalSeconds * 5), 1, 30),
            };
            await ping.ExecuteNonQueryAsync(cancellationToken);
        }

        private void Signal()
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        /// <summary>
        /// Reads what the wake-ups and polls name, until <paramref name="session"/> is cancelled. A read that fails
        /// cancels it too: the listener's wait ends at once and the feed reconnects, instead of at the next wake-up or
        /// poll (with <c>Relay:NotifyPollInterval</c> up to an hour, a feed that said it streamed meanwhile).
        /// </summary>
        private async Task WorkAsync(CancellationTokenSource session)
        {
            try
            {
                await WorkUntilCancelledAsync(session.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !session.IsCancellationRequested)
            {
                await session.CancelAsync();
                throw;
            }
        }

        private async Task WorkUntilCancelledAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                await _signal.WaitAsync(cancellationToken);
                string[] woken;
                lock (_woken)
                {
                    woken = [.. _woken];
                    _woken.Clear();
                }
                foreach (var topic in woken)
                {
                    // Anyone who can connect may NOTIFY anything: a topic no poll has found (one created since the
                    // last, or a made-up name) is not read, and made no log of its own; the poll finds the real ones.
                    if (feed.Logs.Find(topic) is not { } log)
                    {
                        _poll = true;
                        continue;
                    }
                    await feed.CatchUpAsync(log, cancellationToken);
                }
                if (_poll)
                {
                    _poll = false;
                    await feed.ServeAsync(connecting: false, cancellationToken);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Feed + 30, LogLevel.Information, "Turned NOTIFY wake-ups on for topic {Topic}: the notify feed serves it")]
        public static partial void NotifyEnabled(ILogger logger, string topic);

        [LoggerMessage(RelayEventIds.Feed + 31, LogLevel.Warning,
            "Cannot turn NOTIFY wake-ups on ({Reason}): GRANT UPDATE (notify) ON relay.topics TO the relay's role; until then updates arrive by polling, within {Interval}, and the relay tries again every 60 polls")]
        public static partial void NotifyRefused(ILogger logger, string reason, TimeSpan interval);
    }
}
