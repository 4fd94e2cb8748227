using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Tests;

/// <summary>
/// One real PostgreSQL for the whole test run, migrated once: <c>RELAY_TEST_CONNECTION_STRING</c> if set, else a
/// throwaway cluster from the local binaries (see <see cref="DatabaseProvisioner"/>), else a Docker container
/// (<see cref="ContainerDatabase"/>).
/// Tests stay independent by using topics of their own (<see cref="TestTopics"/>).
/// </summary>
[SetUpFixture]
public sealed class TestDatabase
{
    /// <summary>Names the explicit database, when the tests must not start one.</summary>
    public const string ConnectionStringVariable = "RELAY_TEST_CONNECTION_STRING";

    private static ProvisionedDatabase? s_database;
    private static NpgsqlDataSource? s_dataSource;

    public static ProvisionedDatabase Database => s_database ?? throw new InvalidOperationException("the test database is not started");

    public static NpgsqlDataSource DataSource => s_dataSource ?? throw new InvalidOperationException("the test database is not started");

    public static string ConnectionString => Database.ConnectionString;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(NullLoggerProvider.Instance));
        var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        s_database = string.IsNullOrWhiteSpace(connectionString) && PostgresBinaries.Find() is null
            ? await ContainerDatabase.StartAsync()
            : await DatabaseProvisioner.ProvisionAsync(
                connectionString,
                new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-tests-{Guid.NewGuid():N}"), Durable = false },
                logging.CreateLogger("tests"));
        s_dataSource = NpgsqlDataSource.Create(s_database.ConnectionString);
        await new SchemaMigrator(s_dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        TestContext.Progress.WriteLine($"Tests run on PostgreSQL from {s_database.Description}");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (s_dataSource is not null)
        {
            await s_dataSource.DisposeAsync();
        }
        if (s_database is not null)
        {
            await s_database.DisposeAsync();
        }
    }
}
