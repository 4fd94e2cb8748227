using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Bench.E2E;

/// <summary>
/// The database a scenario runs on: <c>RELAY_BENCH_CONNECTION_STRING</c> if set, otherwise a throwaway cluster from the
/// local binaries with production settings (fsync on), migrated.
/// </summary>
internal static class BenchDatabase
{
    public static async Task<(ProvisionedDatabase Database, NpgsqlDataSource DataSource)> StartAsync(CancellationToken cancellationToken = default)
    {
        var database = await DatabaseProvisioner.ProvisionAsync(
            Environment.GetEnvironmentVariable("RELAY_BENCH_CONNECTION_STRING"),
            new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-bench-{Guid.NewGuid():N}") },
            NullLogger.Instance, cancellationToken);
        var dataSource = new NpgsqlDataSourceBuilder(database.ConnectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = 200 },
        }.Build();
        await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync(cancellationToken);
        Console.WriteLine($"database: {database.Description}");
        return (database, dataSource);
    }

    /// <summary>Creates an inline topic that keeps 7 days and does not require an organisation.</summary>
    public static async Task CreateTopicAsync(NpgsqlDataSource dataSource, string topic, CancellationToken cancellationToken = default)
    {
        await using var create = dataSource.CreateCommand($"SELECT relay.create_topic('{topic}', 'inline', '7 days', false)");
        await create.ExecuteNonQueryAsync(cancellationToken);
    }
}
