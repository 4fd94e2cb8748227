using Npgsql;

namespace Relay.Tests;

/// <summary>
/// Holds an ACCESS EXCLUSIVE lock on an attached table, so that the relay's reads of its documents wait in
/// PostgreSQL: a shared read can then be observed, joined, abandoned or killed while in flight. Disposing releases it.
/// </summary>
public sealed class BlockedReads : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private NpgsqlTransaction? _transaction;

    private BlockedReads(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<BlockedReads> LockAsync(string table)
    {
        var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new BlockedReads(connection, transaction);
    }

    /// <summary>Waits until a read of documents (<c>relay.read_documents</c>) waits for this lock.</summary>
    public Task WaitForBlockedReadAsync() => Eventually.ThatAsync(
        async () => await BlockedPidsAsync() is { Count: > 0 }, "a document read to wait for the lock");

    /// <summary>Ends the backends of the waiting reads, as a DBA's <c>pg_terminate_backend</c> or a crash would.</summary>
    public async Task TerminateBlockedReadsAsync()
    {
        foreach (var pid in await BlockedPidsAsync())
        {
            await Sql.ExecuteAsync("SELECT pg_terminate_backend($1)", pid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.CommitAsync();
            await _transaction.DisposeAsync();
            _transaction = null;
            await _connection.DisposeAsync();
        }
    }

    private static async Task<List<int>> BlockedPidsAsync() =>
        [.. (await Sql.RowsAsync(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%relay.read_documents%' AND pid <> pg_backend_pid()"))
            .Select(row => (int)row[0]!)];
}
