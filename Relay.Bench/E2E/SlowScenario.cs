using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e slow</c>: 1,000 clients on one topic receive 100 updates/s of ~1 KB documents, once alone and once beside
/// 100 clients that subscribe and then never read. Reports the normal clients' commit→client p50/p99 in both runs, the
/// ratio, and the relay's RSS: slow clients must not slow the others nor grow the relay without bound. Each run uses a
/// fresh relay process.
/// </summary>
internal static class SlowScenario
{
    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        var normal = quick ? 50 : 1000;
        var slow = quick ? 10 : 100;
        var alone = await RunOnceAsync(dataSource, "bench.alone", normal, stalled: 0, duration, cancellationToken);
        var beside = await RunOnceAsync(dataSource, "bench.beside", normal, slow, duration, cancellationToken);
        return
        [
            alone.Row($"{normal} clients alone", alone),
            beside.Row($"{normal} clients beside {slow} that never read", alone),
        ];
    }

    private static async Task<Result> RunOnceAsync(
        NpgsqlDataSource dataSource, string topic, int clients, int stalled, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using (var create = dataSource.CreateCommand($"SELECT relay.create_topic('{topic}', 'inline', '7 days', false)"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var relay = await RelayProcess.StartAsync(dataSource.ConnectionString);
        var token = RelayProcess.Token();
        var slowClients = new List<BenchClient>();
        for (var i = 0; i < stalled; i++)
        {
            // Never started: it reads nothing after subscribing, so its socket buffers fill.
            slowClients.Add(await BenchClient.ConnectAsync(relay, topic, after: 0, token));
        }
        var normal = new ConcurrentBag<BenchClient>();
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var client = await BenchClient.ConnectAsync(relay, topic, after: 0, token);
                client.Start(record: i < 100, cancellationToken);
                await client.CaughtUp;
                normal.Add(client);
            }
            finally
            {
                gate.Release();
            }
        }));

        var committed = new ConcurrentDictionary<long, long>();
        var peak = 0L;
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        for (var tick = 0; clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken); tick++)
        {
            await PublishAsync(dataSource, topic, tick, committed, cancellationToken);
            peak = Math.Max(peak, relay.ResidentBytes());
        }
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var latencies = new Percentiles();
        foreach (var client in normal)
        {
            foreach (var (watermark, received) in client.Received)
            {
                if (committed.TryGetValue(watermark, out var at))
                {
                    latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, received).TotalMilliseconds));
                }
            }
            await client.DisposeAsync();
        }
        foreach (var client in slowClients)
        {
            await client.DisposeAsync();
        }
        return new Result(latencies.At(50), latencies.At(99), peak);
    }

    private static async Task PublishAsync(NpgsqlDataSource dataSource, string topic, int tick, ConcurrentDictionary<long, long> committed, CancellationToken cancellationToken)
    {
        var docs = string.Join(',', Enumerable.Range(0, 10).Select(d =>
            $$"""{"doc_key":"{{topic}}:{{(tick * 10 + d) % 1000}}","payload":{{Documents.RunSummary(d, tick)}}}"""));
        await using var command = dataSource.CreateCommand("SELECT watermark FROM relay.publish_batch($1, $2::jsonb)");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue("[" + docs + "]");
        var watermarks = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                watermarks.Add(reader.GetInt64(0));
            }
        }
        var at = Stopwatch.GetTimestamp();
        foreach (var watermark in watermarks)
        {
            committed[watermark] = at;
        }
    }

    private sealed record Result(double P50, double P99, long PeakResident)
    {
        public ScenarioRow Row(string name, Result baseline) => new(name,
        [
            ("p50 (ms)", $"{P50:F2}"),
            ("p99 (ms)", $"{P99:F2}"),
            ("p99 vs alone", $"{P99 / baseline.P99:F2}×"),
            ("relay peak RSS (MiB)", $"{PeakResident / 1048576.0:F0}"),
        ]);
    }
}
