using Npgsql;

namespace Relay.Tests;

/// <summary>
/// Holds an ACCESS EXCLUSIVE lock on a table (an attached table, the journal, the topics), so that the relay's reads
/// of it wait in PostgreSQL: a shared read can then be observed, joined, abandoned or killed while in flight, and a
/// path that should not read it shown not to. Disposing releases it.
/// </summary>
public sealed class BlockedReads : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _blockedQuery;
    private NpgsqlTransaction? _transaction;

    private BlockedReads(NpgsqlConnection connection, NpgsqlTransaction transaction, string blockedQuery)
    {
        _connection = connection;
        _transaction = transaction;
        _blockedQuery = blockedQuery;
    }

    /// <summary>Locks <paramref name="table"/>; the reads waited for are those whose query names <paramref name="blockedQuery"/>.</summary>
    public static async Task<BlockedReads> LockAsync(string table, string blockedQuery = "relay.read_documents")
    {
        var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new BlockedReads(connection, transaction, blockedQuery);
    }

    /// <summary>Waits until a read waits for this lock.</summary>
    public Task WaitForBlockedReadAsync() => Eventually.ThatAsync(
        async () => await BlockedPidsAsync() is { Count: > 0 }, $"a read of {_blockedQuery} to wait for the lock");

    /// <summary>How many reads wait for this lock now.</summary>
    public async Task<int> BlockedReadCountAsync() => (await BlockedPidsAsync()).Count;

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

    private async Task<List<int>> BlockedPidsAsync() =>
        [.. (await Sql.RowsAsync(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0 AND pid <> pg_backend_pid()", _blockedQuery))
            .Select(row => (int)row[0]!)];
}
