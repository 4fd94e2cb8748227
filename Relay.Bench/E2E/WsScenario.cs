using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e ws</c>: the relay as a separate process (<c>relay serve</c>, replication feed), clients over real WebSockets.
/// <list type="bullet">
/// <item>latency: commit→client p50/p99 at 1,000 updates/s with 100 clients on one topic;</item>
/// <item>fan-out: 1,000 clients on one topic while writers publish as fast as they can; delivered updates/s;</item>
/// <item>idle: relay RSS with 10,000 idle subscribed connections, and bytes per connection.</item>
/// </list>
/// Latency is from a writer's commit returning to a client receiving the update (0 when the client was first).
/// </summary>
internal static class WsScenario
{
    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await using (var create = dataSource.CreateCommand(
            "SELECT relay.create_topic(t, 'inline', '7 days', false) FROM unnest(ARRAY['bench.latency', 'bench.fanout', 'bench.idle']) t"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var relay = await RelayProcess.StartAsync(dataSource.ConnectionString);
        // Idle first, against the fresh relay: its resident set does not shrink back after the fan-out.
        var baseline = relay.ResidentBytes();
        var rows = new List<ScenarioRow> { await IdleAsync(relay, baseline, connections: quick ? 200 : 10_000) };
        rows.Add(await LatencyAsync(relay, dataSource, clients: quick ? 10 : 100, rate: 1000, duration, cancellationToken));
        rows.Add(await FanoutAsync(relay, dataSource, clients: quick ? 50 : 1000, duration, cancellationToken));
        return rows;
    }

    private static async Task<ScenarioRow> LatencyAsync(
        RelayProcess relay, NpgsqlDataSource dataSource, int clients, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        const string Topic = "bench.latency";
        var connected = await ClientFleet.ConnectAsync(relay, Topic, clients, recorded: clients);
        var committed = new ConcurrentDictionary<long, long>();
        var clock = Stopwatch.StartNew();
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var inFlight = new List<Task>();
        for (var tick = 0; clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken); tick++)
        {
            var t = tick;
            inFlight.Add(Task.Run(() => ClientFleet.PublishAsync(dataSource, Topic, t, rate / 100, committed, cancellationToken), cancellationToken));
            inFlight.RemoveAll(task => task.IsCompleted);
        }
        await Task.WhenAll(inFlight);
        var seconds = clock.Elapsed.TotalSeconds;
        var latencies = await ClientFleet.DrainAsync(connected, committed);
        return new ScenarioRow($"latency: {clients} clients, {rate} updates/s",
        [
            ("clients", $"{clients}"),
            ("delivered updates/s", $"{connected.Sum(c => c.Updates) / seconds:F0} (published {committed.Count / seconds:F0}/s)"),
            ("p50 (ms)", $"{latencies.At(50):F2}"),
            ("p99 (ms)", $"{latencies.At(99):F2}"),
            ("relay RSS (MiB)", $"{relay.ResidentBytes() / 1048576.0:F0}"),
        ]);
    }

    private static async Task<ScenarioRow> FanoutAsync(RelayProcess relay, NpgsqlDataSource dataSource, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        const string Topic = "bench.fanout";
        var connected = await ClientFleet.ConnectAsync(relay, Topic, clients, recorded: 20);
        var committed = new ConcurrentDictionary<long, long>();
        foreach (var sampled in connected.Take(20))
        {
            sampled.Received.Capacity = 100_000;
        }
        var clock = Stopwatch.StartNew();
        var published = 0L;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                await ClientFleet.PublishAsync(dataSource, Topic, writer * 1_000_000 + i, 100, committed, cancellationToken);
                Interlocked.Add(ref published, 100);
            }
        }, cancellationToken)));
        var publishSeconds = clock.Elapsed.TotalSeconds;
        var latencies = await ClientFleet.DrainAsync(connected, committed);
        return new ScenarioRow($"fan-out: {clients} clients, 1 topic",
        [
            ("clients", $"{clients}"),
            ("delivered updates/s", $"{connected.Sum(c => c.Updates) / publishSeconds:F0} (published {published / publishSeconds:F0}/s)"),
            ("p50 (ms)", $"{latencies.At(50):F2}"),
            ("p99 (ms)", $"{latencies.At(99):F2}"),
            ("relay RSS (MiB)", $"{relay.ResidentBytes() / 1048576.0:F0}"),
        ]);
    }

    private static async Task<ScenarioRow> IdleAsync(RelayProcess relay, long baseline, int connections)
    {
        var connected = await ClientFleet.ConnectAsync(relay, "bench.idle", connections, recorded: 0);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var resident = relay.ResidentBytes();
        await Task.WhenAll(connected.Select(c => c.DisposeAsync().AsTask()));
        return new ScenarioRow($"idle: {connections} subscribed connections",
        [
            ("clients", $"{connections}"),
            ("delivered updates/s", "-"),
            ("p50 (ms)", "-"),
            ("p99 (ms)", "-"),
            ("relay RSS (MiB)", $"{resident / 1048576.0:F0} ({(resident - baseline) / connections / 1024.0:F1} KiB per connection over {baseline / 1048576.0:F0} MiB)"),
        ]);
    }
}
