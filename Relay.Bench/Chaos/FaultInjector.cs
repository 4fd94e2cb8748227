using System.Diagnostics;

namespace Relay.Bench.Chaos;

/// <summary>
/// Injects the faults of <see cref="FaultKind"/> in shuffled rounds (each kind once per round, in an order drawn from
/// the run's seed) with a pause of a few seconds between them, and counts what it injected.
/// </summary>
internal sealed class FaultInjector(ChaosDatabase database, IReadOnlyList<RelayNode> nodes, IReadOnlyList<ChaosClient> clients, Random random, Stopwatch clock)
{
    public Dictionary<FaultKind, int> Injected { get; } = Enum.GetValues<FaultKind>().ToDictionary(kind => kind, _ => 0);

    /// <summary>Per kind, the longest time from the end of the fault until every node answered <c>/readyz</c> again.</summary>
    public Dictionary<FaultKind, TimeSpan> SlowestRecovery { get; } = Enum.GetValues<FaultKind>().ToDictionary(kind => kind, _ => TimeSpan.Zero);

    /// <summary>Journal rows <c>relay.prune</c> deleted under live clients.</summary>
    public long Pruned { get; private set; }

    /// <summary>Clients that were away while the journal was pruned past their watermarks.</summary>
    public int AwayWhilePruned { get; private set; }

    /// <summary>Runs whole rounds of faults until <paramref name="duration"/> has passed (a single round when it is zero).</summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var running = Stopwatch.StartNew();
        do
        {
            foreach (var kind in Enum.GetValues<FaultKind>().OrderBy(_ => random.Next()).ToList())
            {
                await Task.Delay(random.Next(1000, 2500));
                await InjectAsync(kind);
                // A fault on a system still recovering from the last one would find nothing to break (no walsender to end).
                var recovery = Stopwatch.StartNew();
                foreach (var node in nodes)
                {
                    await node.WaitReadyAsync();
                }
                if (recovery.Elapsed > SlowestRecovery[kind])
                {
                    SlowestRecovery[kind] = recovery.Elapsed;
                }
            }
        }
        while (running.Elapsed < duration);
    }

    private async Task InjectAsync(FaultKind kind)
    {
        var node = nodes[random.Next(nodes.Count)];
        var detail = "";
        switch (kind)
        {
            case FaultKind.RelayKill:
                await node.KillAsync();
                await Task.Delay(random.Next(1000, 3000));
                await node.StartAsync();
                detail = $"node {node.Index}";
                break;
            case FaultKind.RollingRestart:
                foreach (var each in nodes)
                {
                    var step = Stopwatch.StartNew();
                    await each.TerminateAsync();
                    var exited = step.Elapsed;
                    await each.StartAsync();
                    detail += $"node {each.Index} exited in {exited.TotalSeconds:0.0} s, ready {(step.Elapsed - exited).TotalSeconds:0.0} s later; ";
                }
                break;
            case FaultKind.WalsenderTermination:
                var walsenders = await database.RowsAsync(
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE 'relay\\_%' AND active");
                detail = $"{walsenders} walsenders";
                break;
            case FaultKind.PostgresRestart:
                await database.RestartAsync();
                break;
            case FaultKind.PostgresCrash:
                await database.CrashAsync();
                break;
            case FaultKind.RelayStall:
                var stall = TimeSpan.FromMilliseconds(random.Next(4000, 11000));
                await node.StallAsync(stall);
                detail = $"node {node.Index} for {stall.TotalSeconds:0.0} s";
                break;
            case FaultKind.RetentionPrune:
                detail = await PruneAsync();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        Injected[kind]++;
        Console.WriteLine($"{clock.Elapsed:mm\\:ss} fault: {kind} {detail}".TrimEnd());
    }

    /// <summary>
    /// Sends a third of the clients away, lets the writers move on, prunes every topic's whole journal and brings them
    /// back: their watermarks are now before the retained window.
    /// </summary>
    private async Task<string> PruneAsync()
    {
        var back = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var away = clients.Where(_ => random.Next(3) == 0).Select(client => client.AwayAsync(back.Task)).ToList();
        await Task.Delay(1500);
        await using var prune = database.DataSource.CreateCommand("SELECT coalesce(sum(deleted), 0)::bigint FROM relay.prune(NULL, interval '0')");
        var deleted = (long)(await prune.ExecuteScalarAsync())!;
        back.SetResult();
        var gone = (await Task.WhenAll(away)).Count(wasAway => wasAway);
        Pruned += deleted;
        AwayWhilePruned += gone;
        return $"{deleted} journal rows, {gone} clients away";
    }
}
