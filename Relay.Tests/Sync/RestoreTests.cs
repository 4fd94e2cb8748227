using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OpenAgents.Sync.V1;
using Relay.Client;
using Relay.Host.Development;
using Relay.Core.Schema;
using Relay.Tests.Client;

namespace Relay.Tests.Sync;

/// <summary>
/// A real backup and restore with <c>pg_dump</c> and <c>pg_restore</c> on a cluster of the test's own: the restore undoes
/// what a client has already seen, and writers go on past its cursor with watermarks it has seen for other documents.
/// After the DBA step of the README (<c>relay.reset_epoch()</c>, then restart the relays) the client must re-hydrate and
/// end equal to the read model instead of silently diverging.
/// </summary>
public sealed class RestoreTests
{
    private const string Topic = "test.restored";

    [Test]
    public async Task Client_afterARealDumpAndRestoreAndTheDbaStep_rehydrates_andEndsEqualToTheReadModel()
    {
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-restore-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await ExecuteAsync(dataSource, $"SELECT relay.create_topic('{Topic}', 'inline', '7 days', false)");
        var dump = new PostgresDump(database.ConnectionString);
        var port = FreePort.Next();
        RelayServerHarness? relay = await RelayServerHarness.StartAsync(port: port, connectionString: database.ConnectionString);
        var errors = new List<ErrorCode>();
        await using var client = TestClients.Create(relay);
        client.ErrorReceived += error => { lock (errors) { errors.Add(error.Code); } };
        await client.SubscribeAsync([Topic]);
        client.Start();
        try
        {
            await PublishAsync(dataSource, "kept", 3);
            await CaughtUpAsync(client, dataSource);
            await dump.DumpAsync();
            await PublishAsync(dataSource, "lost", 3);
            await CaughtUpAsync(client, dataSource);
            var epochBefore = await EpochAsync(dataSource);

            await relay.DisposeAsync();
            relay = null;
            await dump.RestoreAsync();
            // Their connections died with the dropped database; a restarted relay process has no pool to clear.
            dataSource.Clear();
            NpgsqlConnection.ClearAllPools();
            var epochRestored = await EpochAsync(dataSource);
            await ExecuteAsync(dataSource, "SELECT * FROM relay.reset_epoch()");
            await PublishAsync(dataSource, "after", 5);
            relay = await RelayServerHarness.StartAsync(port: port, connectionString: database.ConnectionString);
            await CaughtUpAsync(client, dataSource);

            Assert.That(epochRestored, Is.EqualTo(epochBefore), "the dump carries the epoch: only the DBA step changes it");
            Assert.That(client.Watermark(Topic), Is.EqualTo(8), "the client's cursor (6) was past the restored head (3)");
            lock (errors)
            {
                Assert.That(errors.Where(code => code != ErrorCode.Unavailable), Is.EqualTo(new[] { ErrorCode.StaleCursor }), "besides the UNAVAILABLE of the relay stopping");
            }
            var differences = await ReadModel.DifferencesAsync(client.Documents(Topic), Topic, dataSource);
            Assert.That(differences, Is.Empty, string.Join("; ", differences));
            Assert.That(client.Documents(Topic).Keys, Has.None.Contains(":lost"), "what the restore undid is gone from the client too");
        }
        finally
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }
    }

    private static async Task PublishAsync(NpgsqlDataSource dataSource, string prefix, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            await ExecuteAsync(dataSource, $$"""SELECT relay.publish('{{Topic}}', '{{Topic}}:{{prefix}}{{i}}', '{"i":{{i}},"at":"{{Guid.NewGuid()}}"}')""");
        }
    }

    private static async Task CaughtUpAsync(RelayClient client, NpgsqlDataSource dataSource)
    {
        var head = (long)(await Sql.RowsAsync(dataSource, "SELECT relay.head($1)", Topic))[0][0]!;
        await Eventually.ThatAsync(() => client.Watermark(Topic) >= head, $"the client to reach {head}");
    }

    private static async Task<string> EpochAsync(NpgsqlDataSource dataSource) =>
        (string)(await Sql.RowsAsync(dataSource, "SELECT epoch FROM relay.topics WHERE topic = $1", Topic))[0][0]!;

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
