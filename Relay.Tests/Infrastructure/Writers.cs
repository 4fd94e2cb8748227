using Npgsql;

namespace Relay.Tests;

/// <summary>Concurrent publishers, as the runtime would run them.</summary>
public static class Writers
{
    /// <summary>
    /// <paramref name="writers"/> tasks each publishing <paramref name="perWriter"/> documents round-robin over the
    /// topics. With <paramref name="retry"/>, a publish that fails for a connection reason is tried again, as a runtime
    /// riding out a database restart would.
    /// </summary>
    public static Task RunAsync(string connectionString, IReadOnlyList<string> topics, int writers, int perWriter, bool retry = false) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            for (var i = 0; i < perWriter; i++)
            {
                var topic = topics[(writer + i) % topics.Count];
                while (true)
                {
                    try
                    {
                        await using var command = dataSource.CreateCommand("SELECT relay.publish($1, $2, $3::jsonb)");
                        command.Parameters.AddWithValue(topic);
                        command.Parameters.AddWithValue($"{topic}:w{writer}-{i % 20}");
                        command.Parameters.AddWithValue($$"""{"writer":{{writer}},"i":{{i}},"text":"héllo ✓"}""");
                        await command.ExecuteNonQueryAsync();
                        break;
                    }
                    catch (NpgsqlException e) when (retry && IsConnectionFailure(e))
                    {
                        await Task.Delay(50);
                    }
                }
            }
        })));

    /// <summary>The server went away (shutdown, restart, network): not a refusal of the statement.</summary>
    public static bool IsConnectionFailure(NpgsqlException e) =>
        e is not PostgresException postgres || postgres.SqlState.StartsWith("57", StringComparison.Ordinal) || postgres.SqlState.StartsWith("08", StringComparison.Ordinal);

    /// <summary>The journal of a topic as (watermark, doc_key, doc_version, payload text) rows.</summary>
    public static async Task<List<(long, string, long, string?)>> JournalAsync(string topic, NpgsqlDataSource? dataSource = null)
    {
        await using var command = (dataSource ?? TestDatabase.DataSource).CreateCommand(
            "SELECT watermark, doc_key, doc_version, payload::text FROM relay.stream_events WHERE topic = $1 ORDER BY watermark");
        command.Parameters.AddWithValue(topic);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, string, long, string?)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }
        return rows;
    }
}
