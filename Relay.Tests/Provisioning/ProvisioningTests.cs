using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Provisioning;
using Relay.Host.Development;

namespace Relay.Tests.Provisioning;

public sealed class ProvisioningTests
{
    [Test]
    public async Task Provision_withoutConnectionString_startsLogicalReplicationCapableDatabase_andRemovesItAfter()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"relay-provisioning-{Guid.NewGuid():N}");

        await using (var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = directory, Durable = false }, NullLogger.Instance))
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SHOW wal_level", connection);
            Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo("logical"));
            if (database is LocalCluster && Environment.IsPrivilegedProcess)
            {
                // The CI case: PostgreSQL refuses root, so the cluster belongs to the postgres user.
                Assert.That(await OwnerAsync(Path.Combine(directory, "data")), Is.EqualTo("postgres"));
            }
        }

        Assert.That(Directory.Exists(directory), Is.False, "a throwaway cluster is deleted when disposed");
    }

    [Test]
    public async Task Provision_withoutConnectionString_prefersLocalBinaries_andReusesPersistentCluster()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"relay-persistent-{Guid.NewGuid():N}");
        var options = new LocalClusterOptions { Directory = directory, Persistent = true, Durable = false };
        try
        {
            if (PostgresBinaries.Find() is null)
            {
                // A machine without local PostgreSQL: the relay says how to get one (only the tests fall back to Docker).
                Assert.That(() => DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance),
                    Throws.InstanceOf<ProvisioningException>().With.Message.Contains("apt-get install postgresql"));
                return;
            }
            await using (var first = await DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance))
            {
                Assert.That(first, Is.InstanceOf<LocalCluster>());
                await using var connection = new NpgsqlConnection(first.ConnectionString);
                await connection.OpenAsync();
                await new NpgsqlCommand("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)", connection).ExecuteNonQueryAsync();
            }

            // The cluster keeps its port, so the pool would hand back a connection to the stopped server.
            NpgsqlConnection.ClearAllPools();
            await using var second = await DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance);
            await using var again = new NpgsqlConnection(second.ConnectionString);
            await again.OpenAsync();
            Assert.That(await new NpgsqlCommand("SELECT v FROM kept", again).ExecuteScalarAsync(), Is.EqualTo(42));

            // While it runs (a relay up), another process borrows it, and leaves it running.
            await using (var borrowed = await DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance))
            {
                Assert.That(borrowed.ConnectionString, Is.EqualTo(second.ConnectionString));
            }
            Assert.That(await new NpgsqlCommand("SELECT v FROM kept", again).ExecuteScalarAsync(), Is.EqualTo(42));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Test]
    public async Task Provision_afterAStartInterruptedAroundInitdb_givesAWorkingLogicalCluster()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"relay-interrupted-{Guid.NewGuid():N}");
        var options = new LocalClusterOptions { Directory = directory, Persistent = true, Durable = false };
        try
        {
            // initdb interrupted in its staging folder.
            Directory.CreateDirectory(Path.Combine(directory, "data.init"));
            await File.WriteAllTextAsync(Path.Combine(directory, "data.init", "PG_VERSION"), "15");
            await using (await DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance))
            {
            }
            NpgsqlConnection.ClearAllPools();
            // A cluster made before initdb ran in a staging folder, by a start interrupted after initdb and before the
            // relay's settings were written.
            var configuration = Path.Combine(directory, "data", "postgresql.conf");
            var settingsAt = Array.IndexOf(await File.ReadAllLinesAsync(configuration), "listen_addresses = '127.0.0.1'");
            await File.WriteAllLinesAsync(configuration, (await File.ReadAllLinesAsync(configuration)).Take(settingsAt));

            await using var again = await DatabaseProvisioner.ProvisionAsync(null, options, NullLogger.Instance);
            await using var connection = new NpgsqlConnection(again.ConnectionString);
            await connection.OpenAsync();

            Assert.That(settingsAt, Is.GreaterThan(0));
            Assert.That(Directory.Exists(Path.Combine(directory, "data.init")), Is.False);
            Assert.That(await new NpgsqlCommand("SHOW wal_level", connection).ExecuteScalarAsync(), Is.EqualTo("logical"));
            Assert.That((await File.ReadAllLinesAsync(configuration)).Count(line => line == "wal_level = logical"), Is.EqualTo(1));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Test]
    public async Task Provision_explicitConnectionString_isUsedAsIs()
    {
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            TestDatabase.ConnectionString, new LocalClusterOptions { Directory = "unused" }, NullLogger.Instance);

        Assert.That(database.ConnectionString, Is.EqualTo(TestDatabase.ConnectionString));
        Assert.That(database.Description, Is.EqualTo("explicit connection string"));
    }

    private static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%U", path])
        {
            RedirectStandardOutput = true,
        })!;
        var owner = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return owner.Trim();
    }
}
