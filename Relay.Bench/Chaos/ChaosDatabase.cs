using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Provisioning;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Bench.Chaos;

/// <summary>
/// The chaos run's PostgreSQL: always a private durable cluster from the local binaries (the run restarts and crashes it,
/// which it may not do to a database of someone else's), migrated, with the faults that concern it.
/// </summary>
internal sealed class ChaosDatabase : IAsyncDisposable
{
    private readonly ProvisionedDatabase _cluster;
    private readonly string _binDirectory;
    private readonly string _directory;

    private ChaosDatabase(ProvisionedDatabase cluster, string binDirectory, string directory)
    {
        _cluster = cluster;
        _binDirectory = binDirectory;
        _directory = directory;
        DataSource = new NpgsqlDataSourceBuilder(cluster.ConnectionString) { ConnectionStringBuilder = { MaxPoolSize = 40 } }.Build();
    }

    public string ConnectionString => _cluster.ConnectionString;

    public NpgsqlDataSource DataSource { get; }

    public static async Task<ChaosDatabase> StartAsync()
    {
        var binDirectory = PostgresBinaries.Find()
            ?? throw new ProvisioningException("chaos needs the PostgreSQL server binaries (initdb, pg_ctl) to restart and crash its own cluster: install PostgreSQL 14 or newer");
        var directory = Path.Combine(Path.GetTempPath(), $"relay-chaos-{Guid.NewGuid():N}");
        var cluster = await LocalCluster.StartAsync(new LocalClusterOptions { Directory = directory }, binDirectory, NullLogger.Instance);
        var database = new ChaosDatabase(cluster, binDirectory, directory);
        await new SchemaMigrator(database.DataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        Console.WriteLine($"database: {cluster.Description}");
        return database;
    }

    /// <summary>Runs <paramref name="sql"/> and returns how many rows it returned.</summary>
    public async Task<int> RowsAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
        }
        return rows;
    }

    public async Task RestartAsync()
    {
        await _cluster.RestartAsync();
        DataSource.Clear();
    }

    /// <summary>An immediate shutdown, which PostgreSQL treats as a crash (recovery from the WAL at the next start), then a start.</summary>
    public async Task CrashAsync()
    {
        var data = Path.Combine(_directory, "data");
        var port = new NpgsqlConnectionStringBuilder(ConnectionString).Port;
        await ProcessRunner.RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w", "-t", "60"]);
        await ProcessRunner.RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
            ["start", "-D", data, "-l", Path.Combine(_directory, "postgres.log"), "-w", "-t", "60", "-o", $"-p {port}"]);
        DataSource.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _cluster.DisposeAsync();
    }
}
