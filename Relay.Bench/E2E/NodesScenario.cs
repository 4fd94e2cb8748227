using System.Diagnostics;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e nodes</c>: what each relay node costs PostgreSQL. A writer publishes 500 events/s (batches of 20 every 40 ms)
/// for 10 s (1 s with <c>--quick</c>) while 0, 1, 2 and 4 relay processes (<c>relay serve</c>, no clients) follow the
/// journal with the replication feed, then 1, 2 and 4 with the notify feed (<c>--quick</c>: 0 and 1, replication only).
/// Reports PostgreSQL's CPU per 1,000 events (the postmaster and all its children, the writer's backends included), the part of
/// it spent by the nodes' own walsenders and backends (<see cref="NodesBackends"/>) per node, and the relays' CPU per node.
/// </summary>
internal static class NodesScenario
{
    private const string Topic = "bench.nodes";
    private const int BatchSize = 20;
    private static readonly TimeSpan s_period = TimeSpan.FromMilliseconds(40);

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await BenchDatabase.CreateTopicAsync(dataSource, Topic, cancellationToken);
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource)
            ?? throw new InvalidOperationException("e2e nodes measures PostgreSQL's CPU: it needs the database on this machine");
        var duration = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        var counts = quick ? new[] { 1 } : [1, 2, 4];
        var runs = new List<(string Feed, int Nodes)> { ("replication", 0) };
        runs.AddRange(counts.Select(n => ("replication", n)));
        if (!quick)
        {
            runs.AddRange(counts.Select(n => ("notify", n)));
        }

        var rows = new List<ScenarioRow>();
        var iteration = 0;
        // Warm up: the first publishes compile the functions' plans in PostgreSQL and the writer's code here.
        await ClientFleet.OfferAsync(s_period, TimeSpan.FromSeconds(1), _ => StormWriter.PublishAsync(dataSource, Topic, Interlocked.Increment(ref iteration), BatchSize, cancellationToken), cancellationToken);
        foreach (var (feed, nodes) in runs)
        {
            var relays = new List<ServerProcess>();
            for (var i = 0; i < nodes; i++)
            {
                relays.Add(await ServerProcess.StartRelayAsync(NodesBackends.ForNodes(dataSource.ConnectionString), feed));
            }
            var machineBefore = CpuMeter.MachineTicks().Take(8).Sum();
            var postgresBefore = CpuMeter.PostgresTicks(postmaster);
            var relaysBefore = relays.Sum(r => CpuMeter.ProcessTicks(r.ProcessId, withChildren: false));
            var backendsBefore = await NodesBackends.TicksAsync(dataSource, cancellationToken);
            var clock = Stopwatch.StartNew();
            var ticks = await ClientFleet.OfferAsync(s_period, duration, _ => StormWriter.PublishAsync(dataSource, Topic, Interlocked.Increment(ref iteration), BatchSize, cancellationToken), cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            // Let the nodes finish reading what was published before the CPU is read.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var elapsed = clock.Elapsed.TotalSeconds;
            var tickSeconds = elapsed * Environment.ProcessorCount / (CpuMeter.MachineTicks().Take(8).Sum() - machineBefore);
            var thousands = ticks * BatchSize / 1000.0;
            var postgres = (CpuMeter.PostgresTicks(postmaster) - postgresBefore) * tickSeconds * 1000 / thousands;
            var backends = NodesBackends.Used(backendsBefore, await NodesBackends.TicksAsync(dataSource, cancellationToken)) * tickSeconds * 1000 / thousands;
            var relay = nodes == 0 ? 0 : (relays.Sum(r => CpuMeter.ProcessTicks(r.ProcessId, withChildren: false)) - relaysBefore) * tickSeconds * 1000 / thousands / nodes;
            rows.Add(new ScenarioRow(nodes == 0 ? "no relay (baseline): the writer alone" : $"{nodes} node{(nodes > 1 ? "s" : "")}, {feed} feed",
            [
                ("events/s", $"{ticks * BatchSize / seconds:F0}"),
                ("PostgreSQL CPU ms per 1,000 events, all", $"{postgres:F1}"),
                ("of it the nodes' walsenders and backends, per node", nodes == 0 ? "–" : $"{backends / nodes:F1}"),
                ("relay CPU ms per 1,000 events, per node", nodes == 0 ? "–" : $"{relay:F1}"),
            ]));
            foreach (var node in relays)
            {
                await node.DisposeAsync();
            }
        }
        return rows;
    }
}
