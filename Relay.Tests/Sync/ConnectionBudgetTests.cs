using Npgsql;
using Relay.Core.Provisioning;
using Relay.Host.Development;
using Relay.Host.Hosting;

namespace Relay.Tests.Sync;

/// <summary>PostgreSQL is the scarce tier: the relay holds a bounded number of connections, whatever the client load.</summary>
public sealed class ConnectionBudgetTests
{
    [Test]
    public async Task SubscribeStorm_ofAHundredClientsCatchingUpFromTheJournal_staysWithinTheConnectionBudget()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 300) i", topic);
        var application = "budget-" + Guid.NewGuid().ToString("N")[..8];
        var connectionString = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { ApplicationName = application }.ConnectionString;
        // Started after the writes: its topic log holds none of them, so every client catches up from the journal.
        await using var relay = await RelayServerHarness.StartAsync(
            new Dictionary<string, string> { ["Relay:DatabaseConnections"] = "2" }, connectionString: connectionString);
        using var sampling = new CancellationTokenSource();
        var peak = SamplePeakConnectionsAsync(application, sampling.Token);

        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => WsClient.ConnectAsync(relay)));
        try
        {
            var caughtUp = await Task.WhenAll(clients.Select(async client =>
            {
                await client.SubscribeAsync(topic);
                return (await client.UpdatesThroughAsync(topic, 300)).Count;
            }));
            await sampling.CancelAsync();

            Assert.That(caughtUp, Has.All.EqualTo(300));
            Assert.That(await peak, Is.InRange(1, 4), "two pooled connections and the feed's two");
        }
        finally
        {
            await Task.WhenAll(clients.Select(client => client.DisposeAsync().AsTask()));
        }
    }

    [Test]
    public async Task Relay_namesItsConnections_soThatADbaTellsThemApartInPgStatActivity()
    {
        // Before, every relay connection had an empty application_name, and the runbooks' queries could not find the
        // relay holding a slot (ops review O9). A name the connection string gives is kept (the test above).
        await using var relay = await RelayServerHarness.StartAsync();
        var name = $"khala-relay {Environment.MachineName}";

        await Eventually.ThatAsync(
            async () => await Sql.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'walsender'", name) > 0,
            "a walsender named after the relay");
        Assert.That(await Sql.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'", name), Is.Positive);
    }

    [Test]
    public void Relay_allowedMoreConnectionsThanPostgreSqlHas_refusesToStart_sayingWhatToChange()
    {
        var args = new Dictionary<string, string?>
        {
            ["Relay:ConnectionString"] = TestDatabase.ConnectionString, ["Relay:AutoMigrate"] = "false", ["Relay:DatabaseConnections"] = "1000",
            [$"Relay:Auth:Keys:{RelayServerHarness.Key.KeyId}"] = RelayServerHarness.Key.SecretBase64, ["urls"] = $"http://127.0.0.1:{FreePort.Next()}",
        };

        Assert.That(() => RelayServer.RunAsync(args, forceEmbedded: false, onStarted: null),
            Throws.InstanceOf<ProvisioningException>().With.Message.Contains("lower Relay:DatabaseConnections or raise max_connections"));
    }

    private static async Task<long> SamplePeakConnectionsAsync(string application, CancellationToken cancellationToken)
    {
        long peak = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            peak = Math.Max(peak, await Sql.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application));
            await Task.Delay(10, CancellationToken.None);
        }
        return peak;
    }
}
