namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e idle</c>: 10,000 subscribed connections that receive nothing: the server's resident memory before and with
/// them, and the bytes each costs. The baseline is the same connections held by <see cref="RawFanoutServer"/>, the bare
/// Kestrel WebSocket loop, so the difference is what a relay subscription costs over a WebSocket at rest.
/// </summary>
internal static class IdleScenario
{
    private const string Topic = "bench.idle";

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await BenchDatabase.CreateTopicAsync(dataSource, Topic, cancellationToken);
        var connections = quick ? 200 : 10_000;
        double baseline;
        ScenarioRow raw, relay;
        await using (var server = await ServerProcess.StartRawAsync())
        {
            (raw, baseline) = await MeasureAsync("bare Kestrel loop (baseline)", server, connections, perConnectionBaseline: null);
        }
        await using (var server = await ServerProcess.StartRelayAsync(dataSource.ConnectionString))
        {
            relay = (await MeasureAsync("relay", server, connections, baseline)).Row;
        }
        return [raw, relay];
    }

    private static async Task<(ScenarioRow Row, double PerConnection)> MeasureAsync(string name, ServerProcess server, int connections, double? perConnectionBaseline)
    {
        var before = server.ResidentBytes();
        var clients = await ClientFleet.ConnectAsync(server, new CommitLog(Topic), connections, recorded: 0);
        // Let the server settle: connection setup leaves garbage a collection will take back.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var with = server.ResidentBytes();
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        var perConnection = (with - before) / (double)connections;
        var row = new ScenarioRow($"{name}: {connections:N0} subscribed idle connections",
        [
            ("RSS before (MiB)", $"{before / 1048576.0:F0}"),
            ("RSS with them (MiB)", $"{with / 1048576.0:F0}"),
            ("per connection (KiB)", $"{perConnection / 1024:F1}"),
            ("vs baseline", $"{perConnection / (perConnectionBaseline ?? perConnection):F2}×"),
        ]);
        return (row, perConnection);
    }
}
