using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// The PostgreSQL processes that serve the relay nodes: the backends and walsenders whose <c>application_name</c> is
/// <see cref="ApplicationName"/>, which <c>e2e nodes</c> puts in the nodes' connection string.
/// </summary>
internal static class NodesBackends
{
    public const string ApplicationName = "khala-relay-node";

    /// <summary>The nodes' connection string: <paramref name="connectionString"/> with <see cref="ApplicationName"/>.</summary>
    public static string ForNodes(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ApplicationName }.ConnectionString;

    /// <summary>The CPU ticks each of the nodes' PostgreSQL processes has used so far, by process id.</summary>
    public static async Task<Dictionary<int, long>> TicksAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT pid FROM pg_stat_activity WHERE application_name = $1");
        command.Parameters.AddWithValue(ApplicationName);
        var ticks = new Dictionary<int, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var pid = reader.GetInt32(0);
            ticks[pid] = CpuMeter.ProcessTicks(pid, withChildren: false);
        }
        return ticks;
    }

    /// <summary>The ticks used between two readings (a process that started in between counts from zero).</summary>
    public static long Used(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.Sum(process => process.Value - before.GetValueOrDefault(process.Key));
}
