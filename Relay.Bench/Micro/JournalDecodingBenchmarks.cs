using BenchmarkDotNet.Attributes;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Relay.Core.Feeds;
using Relay.Core.Journal;
using Relay.Core.Topics;
using Relay.Host.Development;

namespace Relay.Bench.Micro;

/// <summary>
/// Decoding journal events of ~1 KB run summaries from a real PostgreSQL (a throwaway local cluster), per event.
/// <see cref="Replication"/>: 1,000 inserts re-streamed from a permanent logical slot that is never confirmed, pgoutput
/// in binary through <see cref="JournalDecoder"/> as the replication feed does; this includes the walsender decoding the
/// WAL, the loopback socket and starting and cancelling the stream. <see cref="CatchUp"/>: one 200-event catch-up batch
/// read by <see cref="JournalReader.ReadAsync"/>, including the query.
/// </summary>
[MemoryDiagnoser]
public class JournalDecodingBenchmarks
{
    private const string Topic = "bench.decode";
    private const int Events = 1000;
    private const int PublishBatch = 100;
    private const int CatchUpEvents = 200;

    private static readonly PgOutputReplicationOptions s_options = new(FeedOptions.Publication, PgOutputProtocolVersion.V1, binary: true);
    private static readonly int s_catchUpBytes = new TopicLogOptions().BatchMaxBytes;

    private ProvisionedDatabase? _database;
    private NpgsqlDataSource? _dataSource;
    private LogicalReplicationConnection? _replication;
    private PgOutputReplicationSlot? _slot;
    private JournalReader? _reader;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        try
        {
            (_database, _dataSource) = await E2E.BenchDatabase.StartAsync();
            await using (var topic = _dataSource.CreateCommand($"SELECT relay.create_topic('{Topic}', 'inline', '7 days', false)"))
            {
                await topic.ExecuteNonQueryAsync();
            }
            _replication = new LogicalReplicationConnection(_dataSource.ConnectionString);
            await _replication.Open();
            // Permanent, so that it outlives each stream; created before the inserts, so that they are all after its start.
            _slot = await _replication.CreatePgOutputReplicationSlot(
                $"bench_decode_{Guid.NewGuid():N}", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
            for (var first = 1; first <= Events; first += PublishBatch)
            {
                await using var publish = _dataSource.CreateCommand("SELECT relay.publish_batch($1, $2::jsonb)");
                publish.Parameters.AddWithValue(Topic);
                publish.Parameters.AddWithValue("[" + string.Join(',', Enumerable.Range(first, PublishBatch).Select(run =>
                    $$"""{"doc_key":"run-{{run}}","payload":{{E2E.Documents.RunSummary(run, 1)}}}""")) + "]");
                await publish.ExecuteNonQueryAsync();
            }
            _reader = new JournalReader(_dataSource);
        }
        catch
        {
            // BenchmarkDotNet skips the global cleanup when the setup fails: stop the cluster here.
            await CleanupAsync();
            throw;
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        try
        {
            if (_replication is not null)
            {
                if (_slot is not null)
                {
                    await _replication.DropReplicationSlot(_slot.Name, wait: true);
                }
                await _replication.DisposeAsync();
            }
            if (_dataSource is not null)
            {
                await _dataSource.DisposeAsync();
            }
        }
        finally
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }

    /// <summary>Streams the slot from its start and decodes its first 1,000 inserts; returns the last watermark.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<long> Replication()
    {
        var slot = _slot!;
        var decoder = new JournalDecoder();
        using var stop = new CancellationTokenSource();
        var committedAt = DateTimeOffset.MinValue;
        var decoded = 0;
        var watermark = 0L;
        try
        {
            await foreach (var message in _replication!.StartReplication(slot, s_options, stop.Token, slot.ConsistentPoint))
            {
                switch (message)
                {
                    case BeginMessage begin:
                        committedAt = new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc));
                        break;
                    case RelationMessage relation:
                        decoder.Learn(relation);
                        break;
                    case InsertMessage insert when await decoder.DecodeAsync(insert, committedAt, stop.Token) is { } journalEvent:
                        watermark = journalEvent.Watermark;
                        if (++decoded == Events)
                        {
                            await stop.CancelAsync();
                        }
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (decoded == Events)
        {
            // Stopped after the last event.
        }
        return watermark == Events
            ? watermark
            : throw new InvalidOperationException($"decoded {decoded} events through watermark {watermark}, expected {Events}");
    }

    /// <summary>Reads a subscription's catch-up batch from watermark 0.</summary>
    [Benchmark(OperationsPerInvoke = CatchUpEvents)]
    public Task<List<JournalEvent>> CatchUp() => _reader!.ReadAsync(Topic, 0, long.MaxValue, CatchUpEvents, s_catchUpBytes);
}
