using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Relay.Core.Feeds;
using Relay.Core.Journal;

namespace Relay.Bench.E2E;

/// <summary>
/// The floor PostgreSQL itself sets under each feed: a bare consumer in the load generator, beside the relay and under
/// the same load. For <c>replication</c>, a temporary pgoutput slot on the relay's publication, timing each journal
/// insert as it arrives; for <c>notify</c>, a connection that LISTENs on the relay's channel, timing each transaction's
/// wake-up (the relay must still read the journal after it).
/// </summary>
internal sealed class PostgresBaseline : IAsyncDisposable
{
    private readonly ConcurrentQueue<(long Key, long Received)> _events = new();
    private readonly ConcurrentQueue<(int Topic, long Received)> _wakeUps = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CommitLog _log;
    private IAsyncDisposable? _connection;
    private Task _run = Task.CompletedTask;

    private PostgresBaseline(CommitLog log) => _log = log;

    public static async Task<PostgresBaseline> StartAsync(string feed, string connectionString, CommitLog log)
    {
        var baseline = new PostgresBaseline(log);
        if (feed == "notify")
        {
            await baseline.ListenAsync(connectionString);
        }
        else
        {
            await baseline.ReplicateAsync(connectionString);
        }
        return baseline;
    }

    /// <summary>Latencies of what arrived since the last call, and how many events or wake-ups that was.</summary>
    public (Percentiles Latencies, int Arrived) TakeLatencies()
    {
        var latencies = new Percentiles();
        var arrived = 0;
        while (_events.TryDequeue(out var arrival))
        {
            arrived++;
            if (_log.TryGet(arrival.Key, out var at))
            {
                latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, arrival.Received).TotalMilliseconds));
            }
        }
        var wakeUps = new List<(int Topic, long Received)>();
        while (_wakeUps.TryDequeue(out var wakeUp))
        {
            wakeUps.Add(wakeUp);
        }
        var transactions = _log.TakeTransactions();
        // One topic's transactions commit one after another, and their wake-ups arrive in commit order.
        foreach (var topic in wakeUps.GroupBy(w => w.Topic))
        {
            arrived += topic.Count();
            foreach (var (at, received) in transactions[topic.Key].Zip(topic.Select(w => w.Received)))
            {
                latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, received).TotalMilliseconds));
            }
        }
        return (latencies, arrived);
    }

    private async Task ListenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        _connection = connection;
        await connection.OpenAsync();
        connection.Notification += (_, e) =>
        {
            var topic = Array.IndexOf(_log.Topics, e.Payload);
            if (topic >= 0)
            {
                _wakeUps.Enqueue((topic, Stopwatch.GetTimestamp()));
            }
        };
        await using (var listen = new NpgsqlCommand("LISTEN relay_journal", connection))
        {
            await listen.ExecuteNonQueryAsync();
        }
        _run = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                await connection.WaitAsync(_stop.Token);
            }
        });
    }

    private async Task ReplicateAsync(string connectionString)
    {
        var connection = new LogicalReplicationConnection(connectionString);
        _connection = connection;
        await connection.Open();
        _run = await StreamAsync(connection, (journalEvent, received) =>
        {
            if (Array.IndexOf(_log.Topics, journalEvent.Topic) is var topic and >= 0)
            {
                _events.Enqueue((CommitLog.Key(topic, journalEvent.Watermark), received));
            }
        }, _stop.Token);
    }

    /// <summary>
    /// The least a pgoutput consumer of the journal does: a temporary slot on the relay's publication, each insert
    /// decoded into a <see cref="JournalEvent"/> (handed to <paramref name="onEvent"/> with the time it arrived), and
    /// the position confirmed at each commit. Returns once the slot exists; the task it gives streams until cancelled.
    /// </summary>
    public static async Task<Task> StreamAsync(LogicalReplicationConnection connection, Action<JournalEvent, long> onEvent, CancellationToken cancellationToken)
    {
        var slot = await connection.CreatePgOutputReplicationSlot(
            $"bench_{Guid.NewGuid():N}", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancellationToken);
        var options = new PgOutputReplicationOptions(FeedOptions.Publication, PgOutputProtocolVersion.V1, binary: true);
        return Task.Run(async () =>
        {
            var decoder = new JournalDecoder();
            await foreach (var message in connection.StartReplication(slot, options, cancellationToken))
            {
                switch (message)
                {
                    case RelationMessage relation:
                        decoder.Learn(relation);
                        break;
                    case InsertMessage insert:
                        var received = Stopwatch.GetTimestamp();
                        if (await decoder.DecodeAsync(insert, DateTimeOffset.MinValue, cancellationToken) is { } journalEvent)
                        {
                            onEvent(journalEvent, received);
                        }
                        break;
                    case CommitMessage commit:
                        connection.SetReplicationStatus(commit.TransactionEndLsn);
                        break;
                }
            }
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        catch (NpgsqlException) when (_stop.IsCancellationRequested)
        {
            // Stopped while a row was being read: Npgsql ends the stream under the read (a clean CI failed so once).
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _stop.Dispose();
    }
}
