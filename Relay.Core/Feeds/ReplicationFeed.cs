using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Core.Feeds;

/// <summary>
/// Tails the journal by logical replication (the default feed). Each session creates a <em>temporary</em> slot with a
/// unique name, so a dead relay never makes PostgreSQL retain WAL, and reads every topic's head in the snapshot the slot
/// exports: events up to those heads are in the journal, events after them arrive on the stream, so joining loses
/// nothing. See <see href="https://www.postgresql.org/docs/current/protocol-replication.html">the replication protocol</see>.
/// </summary>
public sealed partial class ReplicationFeed(
    string connectionString, TopicLogs logs, FeedOptions options, RelayMetrics metrics, ILogger<ReplicationFeed> logger)
    : JournalFeed("replication", logs, options, metrics, logger)
{
    /// <summary>The prefix of this relay's slot names, e.g. <c>relay_3f2a…</c>.</summary>
    public const string SlotPrefix = "relay_";

    /// <summary>
    /// The prefix of the logical decoding message <c>relay.reset_epoch</c> sends: its content is a JSON object of each
    /// topic reset, with its new epoch and its head at that commit (<c>{"topic": {"epoch": "…", "head": 42}}</c>).
    /// </summary>
    private const string EpochsMessagePrefix = "relay.epochs";

    /// <summary>
    /// The prefix of the message an older <c>relay.reset_epoch</c> sends (the topic, or empty for every topic), whose rows
    /// are then read: with a database not migrated yet (<c>AutoMigrate</c> off), the only word of a reset.
    /// </summary>
    private const string EpochMessagePrefix = "relay.epoch";

    /// <summary>How often, while commits come, the feed asks whether the database has synchronous standbys.</summary>
    private static readonly TimeSpan StandbyCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a commit is held before the feed says so in its log.</summary>
    private static readonly TimeSpan HeldWarning = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    protected override async ValueTask<FeedSession> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new LogicalReplicationConnection(connectionString);
        try
        {
            await connection.Open(cancellationToken);
            var slot = await connection.CreatePgOutputReplicationSlot(
                SlotPrefix + Guid.NewGuid().ToString("N"), temporarySlot: true,
                slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
            Log.SlotCreated(Logger, slot.Name, slot.ConsistentPoint.ToString());
            // The exported snapshot lives until the next command on the replication connection: read it first.
            await Logs.SyncAsync(await ReadHeadsAsync(slot.SnapshotName!, cancellationToken), gap: true, cancellationToken);
            return new Session(this, connection, slot);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<IReadOnlyList<TopicState>> ReadHeadsAsync(string snapshot, CancellationToken cancellationToken)
    {
        // Not pooled: this runs once per (re)connect, often after PostgreSQL restarted, when a pooled connection would be
        // one the server closed.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var use = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot}'", connection, transaction))
        {
            await use.ExecuteNonQueryAsync(cancellationToken);
        }
        // Without it the stream would start and fail only at the first write, and again after every reconnect.
        await using (var publication = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM pg_publication_tables WHERE pubname = $1 AND schemaname = 'relay' AND tablename = 'stream_events')",
            connection, transaction))
        {
            publication.Parameters.AddWithValue(FeedOptions.Publication);
            if (!(bool)(await publication.ExecuteScalarAsync(cancellationToken))!)
            {
                throw new NpgsqlException(
                    $"publication {FeedOptions.Publication} is missing or does not publish relay.stream_events: run relay migrate, which " +
                    "creates it (a restore of the relay schema alone leaves it out)");
            }
        }
        var topics = await JournalReader.ReadTopicsAsync(connection, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return topics;
    }

    /// <summary>Whether commits wait for a synchronous standby (<c>synchronous_standby_names</c> is set).</summary>
    private async Task<bool> HasSynchronousStandbysAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT current_setting('synchronous_standby_names') <> ''", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Waits until transaction <paramref name="xid"/>, decoded as committed, is visible to a new snapshot: with a
    /// synchronous standby, once the standby has confirmed it. Asked of the transaction itself, not of a topic's head,
    /// which a topic dropped and created again since would have lowered. <paramref name="events"/> name it in the log.
    /// </summary>
    private async Task WaitUntilVisibleAsync(uint xid, List<JournalEvent> events, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var warned = false;
        while (true)
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(cancellationToken);
                // The decoded xid has 32 bits; a snapshot's have the epoch too: the xid is of xmax's epoch, or of the one
                // before when its low bits are above xmax's (it committed before this snapshot).
                await using var command = new NpgsqlCommand(
                    """
                    SELECT pg_visible_in_snapshot(
                               ((s.xmax >> 32 << 32) + $1 - CASE WHEN $1 > (s.xmax & 4294967295) THEN 4294967296 ELSE 0 END)::text::xid8,
                               pg_current_snapshot())
                      FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) s
                    """, connection);
                command.Parameters.AddWithValue((long)xid);
                if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
                {
                    return;
                }
            }
            if (!warned && clock.Elapsed > HeldWarning)
            {
                warned = true;
                Log.CommitHeld(Logger, string.Join(", ", events.GroupBy(e => e.Topic).Select(t => $"{t.Key}@{t.Max(e => e.Watermark)}")), HeldWarning.TotalSeconds);
            }
            await Task.Delay(delay, cancellationToken);
            delay = delay * 2 < TimeSpan.FromMilliseconds(100) ? delay * 2 : TimeSpan.FromMilliseconds(100);
        }
    }

    private sealed class Session(ReplicationFeed feed, LogicalReplicationConnection connection, PgOutputReplicationSlot slot) : FeedSession
    {
        private readonly JournalDecoder _decoder = new();
        private volatile bool _inTransaction;
        private bool _holdUntilVisible;
        private long _standbysCheckedAt;

        private const string StreamEndedByServer = "Received backend message CommandComplete while expecting CopyData";

        public override async Task FollowAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var idle = AcknowledgeWhileIdleAsync(stop.Token);
            try
            {
                var transaction = new List<JournalEvent>();
                var epochs = new List<string?>();
                var resets = new List<(string Topic, string Epoch, long Head)>();
                var committedAt = DateTimeOffset.MinValue;
                uint? xid = null;
                var options = new PgOutputReplicationOptions(FeedOptions.Publication, PgOutputProtocolVersion.V1, binary: true, messages: true);
                await foreach (var message in connection.StartReplication(slot, options, cancellationToken, slot.ConsistentPoint))
                {
                    switch (message)
                    {
                        case BeginMessage begin:
                            _inTransaction = true;
                            xid = begin.TransactionXid;
                            committedAt = new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc));
                            break;
                        case RelationMessage relation:
                            _decoder.Learn(relation);
                            break;
                        case InsertMessage insert when await _decoder.DecodeAsync(insert, committedAt, cancellationToken) is { } journalEvent:
                            transaction.Add(journalEvent);
                            break;
                        case LogicalDecodingMessage { Prefix: EpochsMessagePrefix } reset:
                            resets.AddRange(await ReadResetAsync(reset.Data, cancellationToken));
                            break;
                        case LogicalDecodingMessage { Prefix: EpochMessagePrefix } epoch:
                            using (var content = new StreamReader(epoch.Data))
                            {
                                epochs.Add(await content.ReadToEndAsync(cancellationToken) is { Length: > 0 } topic ? topic : null);
                            }
                            break;
                        case CommitMessage commit:
                            // With synchronous standbys, a decoded commit may still wait for one and, should the primary
                            // fail over meanwhile, never have happened: held until it is visible, it is never delivered
                            // before PostgreSQL tells its writer it committed.
                            if (transaction.Count > 0 && xid is { } committed && await HoldUntilVisibleAsync(cancellationToken))
                            {
                                await feed.WaitUntilVisibleAsync(committed, transaction, cancellationToken);
                            }
                            await feed.Logs.AppendAsync(transaction, cancellationToken);
                            transaction.Clear();
                            if (resets.Count > 0)
                            {
                                feed.Logs.Reset(resets);
                            }
                            else
                            {
                                foreach (var topic in epochs)
                                {
                                    await feed.Logs.ReadEpochsAsync(topic, cancellationToken);
                                }
                            }
                            resets.Clear();
                            epochs.Clear();
                            // Handled: PostgreSQL may forget the WAL up to here.
                            connection.SetReplicationStatus(commit.TransactionEndLsn);
                            _inTransaction = false;
                            break;
                    }
                }
            }
            catch (NpgsqlException e) when (e is not PostgresException && e.Message.StartsWith(StreamEndedByServer, StringComparison.Ordinal))
            {
                // At a shutdown the walsender ends the stream with CommandComplete, which Npgsql takes for a loss of
                // protocol sync and words as its own bug (npgsql/npgsql#5752). Should its wording change, its own line
                // is logged, as before.
                throw new NpgsqlException("PostgreSQL ended the replication stream (it is shutting down, or its walsender stopped)", e);
            }
            finally
            {
                await stop.CancelAsync();
                await idle;
            }
        }

        public override ValueTask DisposeAsync() => connection.DisposeAsync();

        /// <summary>Whether commits are held until visible: the setting as read at most <see cref="StandbyCheckInterval"/> ago.</summary>
        private async ValueTask<bool> HoldUntilVisibleAsync(CancellationToken cancellationToken)
        {
            if (_standbysCheckedAt == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(_standbysCheckedAt) >= StandbyCheckInterval)
            {
                _holdUntilVisible = await feed.HasSynchronousStandbysAsync(cancellationToken);
                _standbysCheckedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            return _holdUntilVisible;
        }

        private static async Task<List<(string Topic, string Epoch, long Head)>> ReadResetAsync(Stream data, CancellationToken cancellationToken)
        {
            using var json = await JsonDocument.ParseAsync(data, cancellationToken: cancellationToken);
            return [.. json.RootElement.EnumerateObject().Select(topic =>
                (topic.Name, topic.Value.GetProperty("epoch").GetString()!, topic.Value.GetProperty("head").GetInt64()))];
        }

        /// <summary>With no transaction in hand, everything received is handled: confirm it, so an idle database frees its WAL.</summary>
        private async Task AcknowledgeWhileIdleAsync(CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(feed.Options.IdleAcknowledgeInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    if (!_inTransaction)
                    {
                        connection.SetReplicationStatus(connection.LastReceivedLsn);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The session ended.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Feed + 10, LogLevel.Information, "Created temporary replication slot {Slot} at {Lsn}")]
        public static partial void SlotCreated(ILogger logger, string slot, string lsn);

        [LoggerMessage(RelayEventIds.Feed + 11, LogLevel.Warning,
            "Holding a commit ({Watermarks}) that PostgreSQL decoded more than {Seconds} s ago but has not made visible: a synchronous standby has not confirmed it; its clients get it once it is visible")]
        public static partial void CommitHeld(ILogger logger, string watermarks, double seconds);
    }
}
