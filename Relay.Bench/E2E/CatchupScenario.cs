using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e catchup</c>: one client replays a backlog of 1,000,000 events (~1 KB each) from watermark 0 through the relay
/// (its own process, replication feed): updates/s and the relay's peak resident memory. The backlog is written straight
/// into the journal with generated rows (a fixture: publishing a million documents would measure publish, not replay).
/// </summary>
internal static class CatchupScenario
{
    private const string Topic = "bench.catchup";

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(bool quick, CancellationToken cancellationToken = default)
    {
        var events = quick ? 20_000 : 1_000_000;
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await WriteBacklogAsync(dataSource, events, cancellationToken);
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);
        await using var relay = await ServerProcess.StartRelayAsync(dataSource.ConnectionString);
        var before = relay.ResidentBytes();

        var cpu = CpuMeter.Start(relay, postmaster);
        var clock = Stopwatch.StartNew();
        var client = await BenchClient.ConnectAsync(relay, [Topic], after: 0, ServerProcess.Token());
        client.Start(record: false, cancellationToken);
        await client.CaughtUp;
        var seconds = clock.Elapsed.TotalSeconds;
        var shares = cpu.Stop();
        var received = Interlocked.Read(ref client.Updates);
        await client.DisposeAsync();
        return
        [
            new ScenarioRow($"catch-up: 1 client, {events:N0}-event backlog",
            [
                ("updates", $"{received:N0}"),
                ("seconds", $"{seconds:F1}"),
                ("updates/s", $"{received / seconds:F0}"),
                ("relay RSS before / peak (MiB)", $"{before / 1048576.0:F0} / {relay.PeakResidentBytes() / 1048576.0:F0}"),
                ("CPU of the machine", shares),
            ]),
        ];
    }

    private static async Task WriteBacklogAsync(NpgsqlDataSource dataSource, int events, CancellationToken cancellationToken)
    {
        var payload = Documents.RunSummary(1, 1);
        await using var batch = new NpgsqlBatch(await dataSource.OpenConnectionAsync(cancellationToken))
        {
            Timeout = 0,
            BatchCommands =
            {
                new($"SELECT relay.create_topic('{Topic}', 'inline', '7 days', false)"),
                new($"""
                    INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, payload, payload_hash)
                    SELECT '{Topic}', w, 'run-' || (w % 10000), w, $1::jsonb, relay.payload_hash($1::jsonb)
                      FROM generate_series(1, $2) w
                    """) { Parameters = { new() { Value = payload }, new() { Value = events } } },
                new($"UPDATE relay.topics SET head_watermark = $1 WHERE topic = '{Topic}'") { Parameters = { new() { Value = (long)events } } },
                new("ANALYZE relay.stream_events"),
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await batch.Connection!.DisposeAsync();
    }
}
