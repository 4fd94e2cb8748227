using System.Diagnostics;
using Relay.Host.Development;

namespace Relay.Bench.Chaos;

/// <summary>
/// The chaos run (issue 16): several relay nodes on one PostgreSQL, writers on several topics, clients joining,
/// dropping and resuming across nodes while <see cref="FaultInjector"/> kills, restarts, stalls and prunes; then the
/// writers stop and every client's cache must equal the read model, with no reorder seen on any connection.
/// </summary>
internal static class ChaosScenario
{
    private static readonly (string Topic, string Mode)[] s_topics = [("chaos.runs", "inline"), ("chaos.notes", "inline"), ("chaos.pointers", "pointer")];
    private static readonly TimeSpan s_settleWithin = TimeSpan.FromSeconds(60);

    public static async Task<ChaosReport> RunAsync(ChaosOptions options)
    {
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"relay-chaos-{options.Seed}-{startedAt:HHmmss}")).FullName;
        Console.WriteLine($"chaos: seed {options.Seed}, {options.Nodes} nodes, {options.Clients} clients, {options.Writers} writers; node logs in {logs}");
        await using var database = await ChaosDatabase.StartAsync();
        foreach (var (topic, mode) in s_topics)
        {
            await database.RowsAsync($"SELECT relay.create_topic('{topic}', '{mode}', '7 days', true)");
        }
        var topics = s_topics.Select(t => t.Topic).ToList();
        var nodes = Enumerable.Range(0, options.Nodes).Select(i => new RelayNode(i, FreePort.Next(), database.ConnectionString, logs)).ToList();
        var clients = new List<ChaosClient>();
        try
        {
            foreach (var node in nodes)
            {
                await node.StartAsync();
            }
            var order = new OrderCheck();
            clients.AddRange(Enumerable.Range(0, options.Clients).Select(i =>
                new ChaosClient(i, ChaosWriter.Orgs[i % ChaosWriter.Orgs.Length], nodes, topics, order, new Random(options.Seed + 1000 + i))));
            using var settle = new CancellationTokenSource();
            // Half join at once, the rest while the faults run, some of them into a pruned journal.
            var joinAfter = clients.Select((_, i) => i < clients.Count / 2 ? 0 : random.Next(1000, 20000)).ToList();
            var churn = clients.Select((client, i) => Task.Run(async () =>
            {
                await Task.Delay(joinAfter[i]);
                await client.RunAsync(settle.Token);
            })).ToList();
            using var stopWriting = new CancellationTokenSource();
            var writers = Enumerable.Range(0, options.Writers).Select(w => new ChaosWriter(database.DataSource, topics, new Random(options.Seed + 1 + w))).ToList();
            var writing = writers.Select(writer => writer.RunAsync(stopWriting.Token)).ToList();

            Console.WriteLine($"{clock.Elapsed:mm\\:ss} {options.Nodes} nodes ready; faults begin");
            var faults = new FaultInjector(database, nodes, clients, random, clock);
            await faults.RunAsync(options.Duration);
            await stopWriting.CancelAsync();
            await Task.WhenAll(writing);
            Console.WriteLine($"{clock.Elapsed:mm\\:ss} writers stopped");
            await settle.CancelAsync();
            await Task.WhenAll(churn);
            Console.WriteLine($"{clock.Elapsed:mm\\:ss} clients settled; waiting up to {s_settleWithin.TotalSeconds:0} s for each to reach the read model");

            var settling = Stopwatch.StartNew();
            var (mismatches, compared) = await SettleAsync(database, clients, topics);
            var settledIn = settling.Elapsed;
            mismatches.AddRange(order.Violations);
            mismatches.AddRange(await ResumePointMismatchesAsync(database, clients, topics));
            await using var heads = database.DataSource.CreateCommand("SELECT sum(head_watermark)::bigint FROM relay.topics WHERE topic LIKE 'chaos.%'");
            return new ChaosReport(options, startedAt, clock.Elapsed, faults.Injected, faults.SlowestRecovery, settledIn, faults.Pruned, faults.AwayWhilePruned, (long)(await heads.ExecuteScalarAsync())!,
                writers.Sum(w => w.Failures), writers.Max(w => w.Slowest), clients.Sum(c => c.UpdatesApplied), order.Checked, compared,
                clients.Sum(c => c.StaleCursors), clients.Sum(c => c.Moves), clients.Sum(c => c.Drops), mismatches);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.StopAsync();
            }
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Each client's resume points: never past the topic's head, and of the topic's epoch (which no fault changes, so a
    /// client holding another would have been told of an epoch that does not exist).
    /// </summary>
    private static async Task<List<string>> ResumePointMismatchesAsync(ChaosDatabase database, List<ChaosClient> clients, List<string> topics)
    {
        var topicRows = new Dictionary<string, (long Head, string Epoch)>(StringComparer.Ordinal);
        await using (var command = database.DataSource.CreateCommand("SELECT topic, head_watermark, epoch FROM relay.topics"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                topicRows[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2));
            }
        }
        var mismatches = new List<string>();
        foreach (var client in clients)
        {
            foreach (var topic in topics)
            {
                var point = await client.ResumePointAsync(topic);
                var (head, epoch) = topicRows[topic];
                if (point.Watermark > head || (point.Epoch.Length > 0 && point.Epoch != epoch))
                {
                    mismatches.Add($"{client.Name}: {topic} resumes from {point.Watermark} of epoch '{point.Epoch}', the head is {head} of epoch '{epoch}'");
                }
            }
        }
        return mismatches;
    }

    /// <summary>
    /// Compares every client with the read model until all agree or <see cref="s_settleWithin"/> has passed; returns
    /// the differences left (one line each) and how many documents the last comparison covered.
    /// </summary>
    private static async Task<(List<string> Mismatches, long Compared)> SettleAsync(ChaosDatabase database, List<ChaosClient> clients, List<string> topics)
    {
        var readModel = await ReadModelCheck.ReadAsync(database);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var mismatches = clients
                .SelectMany(client => topics.SelectMany(topic => readModel.Differences(topic, client.Org, client.Cache.Documents(topic)).Select(d => $"{client.Name}: {d}")))
                .ToList();
            if (mismatches.Count == 0 || deadline.Elapsed > s_settleWithin)
            {
                return (mismatches, clients.Sum(client => topics.Sum(topic => (long)readModel.Count(topic, client.Org))));
            }
            await Task.Delay(500);
        }
    }
}
