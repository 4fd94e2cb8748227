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
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);
        var alone = await RunOnceAsync(dataSource, postmaster, "bench.alone", normal, stalled: 0, duration, cancellationToken);
        var beside = await RunOnceAsync(dataSource, postmaster, "bench.beside", normal, slow, duration, cancellationToken);
        return
        [
            alone.Row($"{normal} clients alone", alone),
            beside.Row($"{normal} clients beside {slow} that never read", alone),
        ];
    }

    private static async Task<Result> RunOnceAsync(
        NpgsqlDataSource dataSource, int? postmaster, string topic, int clients, int stalled, TimeSpan duration, CancellationToken cancellationToken)
    {
        await BenchDatabase.CreateTopicAsync(dataSource, topic, cancellationToken);
        await using var relay = await ServerProcess.StartRelayAsync(dataSource.ConnectionString);
        var token = ServerProcess.Token();
        var slowClients = new List<BenchClient>();
        for (var i = 0; i < stalled; i++)
        {
            // Never started: it reads nothing after subscribing, so its socket buffers fill.
            slowClients.Add(await BenchClient.ConnectAsync(relay, [topic], after: 0, token));
        }
        var log = new CommitLog(topic);
        var normal = await ClientFleet.ConnectAsync(relay, log, clients, recorded: 100);

        var peak = 0L;
        var cpu = CpuMeter.Start(relay, postmaster);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        for (var tick = 0; clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken); tick++)
        {
            await ClientFleet.PublishAsync(dataSource, log, 0, tick, size: 10, cancellationToken);
            peak = Math.Max(peak, relay.ResidentBytes());
        }
        var shares = cpu.Stop();
        await ClientFleet.WaitReceivedAsync(normal, log.Count, TimeSpan.FromSeconds(30));
        var latencies = log.Latencies(normal);
        await Task.WhenAll(normal.Concat(slowClients).Select(c => c.DisposeAsync().AsTask()));
        return new Result(latencies.At(50), latencies.At(99), peak, shares);
    }

    private sealed record Result(double P50, double P99, long PeakResident, string Cpu)
    {
        public ScenarioRow Row(string name, Result baseline) => new(name,
        [
            ("p50 (ms)", $"{P50:F2}"),
            ("p99 (ms)", $"{P99:F2}"),
            ("p99 vs alone", $"{P99 / baseline.P99:F2}×"),
            ("relay peak RSS (MiB)", $"{PeakResident / 1048576.0:F0}"),
            ("CPU of the machine", Cpu),
        ]);
    }
}
