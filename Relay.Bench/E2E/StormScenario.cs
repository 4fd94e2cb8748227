using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e storm</c>: 5,000 clients (300 with <c>--quick</c>, which skips the baseline) over 10 topics against one relay (its own process, replication
/// feed): all subscribing at once at the head, all at once with up to 100 events each to catch up, then the relay killed
/// (SIGKILL) and restarted while a writer goes on publishing, and all of them reconnecting with their resume points.
/// Each storm reports the time until every client was caught up (from the clients' start, or from the restarted relay's
/// launch), p50/p99 per client, the peak of the relay's PostgreSQL
/// connections (<see cref="StormConnections"/>) and the errors the clients saw. The baseline runs the same storms with
/// <c>Relay:DatabaseConnections=95</c>, the most PostgreSQL's default <c>max_connections=100</c> lets the relay have: what
/// an uncapped pool would take.
/// </summary>
internal static class StormScenario
{
    private const int TopicCount = 10;
    private const int Backlog = 100;
    private static readonly TimeSpan s_within = TimeSpan.FromSeconds(120);

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(bool quick, CancellationToken cancellationToken = default)
    {
        var clients = quick ? 300 : 5000;
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        var topics = Enumerable.Range(0, TopicCount).Select(i => $"bench.storm_{i}").ToArray();
        for (var i = 0; i < topics.Length; i++)
        {
            await BenchDatabase.CreateTopicAsync(dataSource, topics[i], cancellationToken);
            await StormWriter.PublishAsync(dataSource, topics[i], i, 2 * Backlog, cancellationToken);
        }
        await using var connections = StormConnections.Start(dataSource);
        var rows = new List<ScenarioRow>();
        rows.AddRange(await StormsAsync("relay", null, dataSource, topics, clients, connections, cancellationToken));
        if (quick)
        {
            return rows;
        }
        rows.AddRange(await StormsAsync(
            "baseline, 95 connections", new Dictionary<string, string> { ["Relay:DatabaseConnections"] = "95" },
            dataSource, topics, clients, connections, cancellationToken));
        return rows;
    }

    private static async Task<List<ScenarioRow>> StormsAsync(
        string name, IReadOnlyDictionary<string, string>? settings, NpgsqlDataSource dataSource, string[] topics, int clients,
        StormConnections connections, CancellationToken cancellationToken)
    {
        var connectionString = StormConnections.ForRelay(dataSource.ConnectionString);
        var relay = await ServerProcess.StartRelayAsync(connectionString, settings: settings);
        var rows = new List<ScenarioRow>();
        try
        {
            var heads = await HeadsAsync(dataSource, topics, cancellationToken);
            connections.TakePeak();
            var start = Stopwatch.GetTimestamp();
            await using (var atHead = StormFleet.Start(relay, Enumerable.Range(0, clients).Select(i => (topics[i % topics.Length], heads[i % topics.Length]))))
            {
                rows.Add(Row($"{name}: {clients:N0} subscribe at the head", atHead, await atHead.WaitCaughtUpAsync(start, s_within), connections.TakePeak()));
            }

            start = Stopwatch.GetTimestamp();
            await using var fleet = StormFleet.Start(relay, Enumerable.Range(0, clients).Select(i =>
                (topics[i % topics.Length], heads[i % topics.Length] - 1 - Random.Shared.Next(Backlog))));
            rows.Add(Row($"{name}: {clients:N0} subscribe with 1–{Backlog} events to catch up", fleet, await fleet.WaitCaughtUpAsync(start, s_within), connections.TakePeak()));

            using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var writer = StormWriter.RunAsync(dataSource, topics, writing.Token);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var port = relay.Port;
            await relay.DisposeAsync();
            relay = null;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            fleet.Expect();
            connections.TakePeak();
            start = Stopwatch.GetTimestamp();
            relay = await ServerProcess.StartRelayAsync(connectionString, port: port, settings: settings);
            var ready = Stopwatch.GetElapsedTime(start).TotalSeconds;
            fleet.ForgetProblems();
            var times = await fleet.WaitCaughtUpAsync(start, s_within);
            rows.Add(Row($"{name}: relay killed and restarted (ready {ready:F1} s after launch), {clients:N0} resume while a writer publishes", fleet, times, connections.TakePeak()));
            await writing.CancelAsync();
            await writer;
        }
        finally
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }
        return rows;
    }

    private static ScenarioRow Row(string name, StormFleet fleet, Percentiles times, int peakConnections) =>
        new(name,
        [
            ("caught up", times.Count == fleet.Count ? "all" : $"{times.Count:N0} of {fleet.Count:N0}"),
            ("completion (s)", $"{times.At(100) / 1000:F2}"),
            ("p50 to caught up (ms)", $"{times.At(50):F0}"),
            ("p99 to caught up (ms)", $"{times.At(99):F0}"),
            ("peak PostgreSQL connections", $"{peakConnections}"),
            ("errors seen by clients", fleet.Problems()),
        ]);

    private static async Task<long[]> HeadsAsync(NpgsqlDataSource dataSource, string[] topics, CancellationToken cancellationToken)
    {
        var heads = new long[topics.Length];
        for (var i = 0; i < topics.Length; i++)
        {
            await using var head = dataSource.CreateCommand($"SELECT relay.head('{topics[i]}')");
            heads[i] = (long)(await head.ExecuteScalarAsync(cancellationToken))!;
        }
        return heads;
    }
}
