using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e latency</c>: commit→client latency at fixed rates (1,000 and 5,000 updates/s, published as batches on 4
/// topics every 20 ms, one writer per topic) to 100 binary-protocol clients, each subscribed to all 4 topics, so that
/// every client receives every update; a warm-up before the rates is not reported. Run for each feed, each with a
/// fresh relay process. The baseline, in the same run and under the same load, is <see cref="PostgresBaseline"/>: how
/// soon a bare consumer hears of the same commits from PostgreSQL. The relay rows add its CPU per event and per
/// delivery, from the rate's start until its last update arrived.
/// </summary>
internal static class LatencyScenario
{
    private const int Topics = 4;
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(20);

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);
        var clientCount = quick ? 10 : 100;
        var rows = new List<ScenarioRow>();
        foreach (var feed in new[] { "replication", "notify" })
        {
            var log = new CommitLog([.. Enumerable.Range(0, Topics).Select(i => $"bench.{feed}_{i}")]);
            await using (var create = dataSource.CreateCommand(string.Concat(log.Topics.Select(t => $"SELECT relay.create_topic('{t}', 'inline', '7 days', false);"))))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var relay = await ServerProcess.StartRelayAsync(dataSource.ConnectionString, feed);
            await using var baseline = await PostgresBaseline.StartAsync(feed, dataSource.ConnectionString, log);
            var clients = await ClientFleet.ConnectAsync(relay, log, clientCount, recorded: clientCount);
            var expected = 0L;
            if (!quick)
            {
                // Not reported: tiered compilation recompiles a fresh relay's hot paths in its first seconds, which
                // took a fifth of the relay's CPU during the first rate's run in a profile on 2026-12-02.
                expected += await PublishAtAsync(dataSource, log, 1000, TimeSpan.FromSeconds(5), cancellationToken);
                await ClientFleet.WaitReceivedAsync(clients, expected, TimeSpan.FromSeconds(60));
                baseline.TakeLatencies();
                log.Latencies(clients);
            }
            foreach (var rate in new[] { 1000, 5000 })
            {
                var before = clients.Sum(c => Interlocked.Read(ref c.Updates));
                var cpu = CpuMeter.Start(relay, postmaster);
                // The relay's own time runs until every update is delivered (the shares above stop with the writers),
                // so a relay that falls behind pays for catching up.
                var relayCpu = CpuMeter.Start(relay, postmaster: null);
                var clock = Stopwatch.StartNew();
                var published = await PublishAtAsync(dataSource, log, rate, duration, cancellationToken);
                var seconds = clock.Elapsed.TotalSeconds;
                var shares = cpu.Stop();
                expected += published;
                var complete = await ClientFleet.WaitReceivedAsync(clients, expected, TimeSpan.FromSeconds(60));
                var delivered = clients.Sum(c => Interlocked.Read(ref c.Updates)) - before;
                relayCpu.Stop();
                var (floor, arrived) = baseline.TakeLatencies();
                var latencies = log.Latencies(clients);
                rows.Add(Row($"{feed} @ {rate:N0}/s: bare {(feed == "notify" ? "LISTEN" : "pgoutput")} consumer (baseline)",
                    published / seconds, $"{arrived / seconds:F0} {(feed == "notify" ? "wake-ups" : "events")}/s", floor, floor, ("–", "–"), shares));
                rows.Add(Row($"{feed} @ {rate:N0}/s: relay → {clientCount} clients{(complete ? "" : " (incomplete)")}",
                    published / seconds, $"{delivered / (double)clientCount / seconds:F0} per client", latencies, floor,
                    (Micros(relayCpu.ServerTime, published), Micros(relayCpu.ServerTime, delivered)), shares));
            }
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
        return rows;
    }

    /// <summary>
    /// Publishes <paramref name="rate"/> updates/s for <paramref name="duration"/>, spread over the topics; returns how
    /// many. Each topic has one writer on one connection, publishing a batch every tick; a writer whose batch is late
    /// goes straight on to the next (it falls behind rather than piling up). Before 2026-12-02 every tick started its
    /// batches whether or not the last ones had finished: once PostgreSQL fell behind, up to 200 connections queued on
    /// the four topic rows, and the lock convoy cost PostgreSQL more than publishing (65-70% of the machine for 450-650
    /// updates/s), so the table measured that convoy rather than the relay.
    /// </summary>
    private static async Task<long> PublishAtAsync(NpgsqlDataSource dataSource, CommitLog log, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var perTopic = (int)(rate * s_tick.TotalSeconds / Topics);
        var ticks = await Task.WhenAll(Enumerable.Range(0, Topics).Select(topic => ClientFleet.PaceAsync((int)(1 / s_tick.TotalSeconds), duration,
            tick => ClientFleet.PublishAsync(dataSource, log, topic, (int)tick, perTopic, cancellationToken), cancellationToken)));
        return (long)ticks.Sum() * perTopic;
    }

    /// <summary>The relay's CPU time from the rate's start until its last update arrived, divided by the events published or the updates delivered.</summary>
    private static string Micros(TimeSpan cpu, long count) => count > 0 ? $"{cpu.TotalMicroseconds / count:F1}" : "–";

    private static ScenarioRow Row(
        string name, double published, string delivered, Percentiles latencies, Percentiles baseline, (string Event, string Delivery) relayCpu, string cpu) => new(name,
    [
        ("published/s", $"{published:F0}"),
        ("received", delivered),
        ("p50 (ms)", $"{latencies.At(50):F2}"),
        ("p95 (ms)", $"{latencies.At(95):F2}"),
        ("p99 (ms)", $"{latencies.At(99):F2}"),
        ("max (ms)", $"{latencies.At(100):F2}"),
        ("p99 vs baseline", $"{latencies.At(99) / baseline.At(99):F2}×"),
        ("relay CPU per event (µs)", relayCpu.Event),
        ("relay CPU per delivery (µs)", relayCpu.Delivery),
        ("CPU of the machine", cpu),
    ]);
}
