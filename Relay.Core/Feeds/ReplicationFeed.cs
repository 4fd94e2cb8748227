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
    /// The prefix of the logical decoding message <c>relay.reset_epoch</c> sends at commit: its content is the topic, or
    /// empty for every topic.
    /// </summary>
    private const string EpochMessagePrefix = "relay.epoch";

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
        var topics = await JournalReader.ReadTopicsAsync(connection, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return topics;
    }

    private sealed class Session(ReplicationFeed feed, LogicalReplicationConnection connection, PgOutputReplicationSlot slot) : FeedSession
    {
        private readonly JournalDecoder _decoder = new();
        private volatile bool _inTransaction;

        private const string StreamEndedByServer = "Received backend message CommandComplete while expecting CopyData";

        public override async Task FollowAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var idle = AcknowledgeWhileIdleAsync(stop.Token);
            try
            {
                var transaction = new List<JournalEvent>();
                var epochs = new List<string?>();
                var committedAt = DateTimeOffset.MinValue;
                var options = new PgOutputReplicationOptions(FeedOptions.Publication, PgOutputProtocolVersion.V1, binary: true, messages: true);
                await foreach (var message in connection.StartReplication(slot, options, cancellationToken, slot.ConsistentPoint))
                {
                    switch (message)
                    {
                        case BeginMessage begin:
                            _inTransaction = true;
                            committedAt = new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc));
                            break;
                        case RelationMessage relation:
                            _decoder.Learn(relation);
                            break;
                        case InsertMessage insert when await _decoder.DecodeAsync(insert, committedAt, cancellationToken) is { } journalEvent:
                            transaction.Add(journalEvent);
                            break;
                        case LogicalDecodingMessage { Prefix: EpochMessagePrefix } epoch:
                            using (var content = new StreamReader(epoch.Data))
                            {
                                epochs.Add(await content.ReadToEndAsync(cancellationToken) is { Length: > 0 } topic ? topic : null);
                            }
                            break;
                        case CommitMessage commit:
                            await feed.Logs.AppendAsync(transaction, cancellationToken);
                            transaction.Clear();
                            foreach (var topic in epochs)
                            {
                                await feed.Logs.ReadEpochsAsync(topic, cancellationToken);
                            }
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
    }
}
