using System.Net.Sockets;
using Npgsql;

namespace Relay.Core.Provisioning;

/// <summary>
/// Connects once before anything else does, so that the expected failures (server down, unknown database or role,
/// <c>wal_level</c> not <c>logical</c>) end the start with one line that says what to do.
/// </summary>
public static class DatabaseCheck
{
    /// <summary>Opens a connection and, for the replication feed, reads <c>wal_level</c>.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="needsLogicalReplication">The replication feed will run: <c>wal_level</c> must be <c>logical</c>.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="ProvisioningException">The database cannot serve the relay; the message says why and what to do.</exception>
    public static async Task CheckAsync(NpgsqlDataSource dataSource, bool needsLogicalReplication, CancellationToken cancellationToken = default)
    {
        var target = ConnectionStrings.Describe(dataSource.ConnectionString);
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var hostList = settings.Host?.Contains(',', StringComparison.Ordinal) == true;
        if (hostList && !needsLogicalReplication
            && settings.TargetSessionAttributes?.ToLowerInvariant() is not ("primary" or "read-write"))
        {
            // Npgsql's default takes any host that answers: the pool could read heads on the primary and the journal
            // on a standby that has not replayed them yet, and the feed would take those events for pruned.
            throw new ProvisioningException(
                $"{target}: a host list needs Target Session Attributes=primary in the connection string, so that every " +
                "connection reaches the primary, never a standby (docs/runbooks/postgres-failover.md)");
        }
        if (needsLogicalReplication && hostList)
        {
            // Npgsql refuses a host list for a replication connection: the feed would retry for ever, never ready.
            throw new ProvisioningException(
                $"{target}: the replication feed connects to one host, not a list: give one name that follows the primary " +
                "(a DNS name or a proxy), or run the relay with --feed notify, which takes a host list (docs/runbooks/postgres-failover.md)");
        }
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (!needsLogicalReplication)
            {
                return;
            }
            await using var command = new NpgsqlCommand("SHOW wal_level", connection);
            if (await command.ExecuteScalarAsync(cancellationToken) is string level and not "logical")
            {
                throw new ProvisioningException(
                    $"PostgreSQL runs with wal_level={level} but the replication feed needs logical: set wal_level = logical " +
                    "(ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL, or run the relay with --feed notify");
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new ProvisioningException($"{target}: {e.MessageText}: create it (createdb) or name another database in the connection string", e);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InvalidPassword)
        {
            throw new ProvisioningException($"{target}: {e.MessageText}: create the role or fix Username/Password in the connection string", e);
        }
        catch (NpgsqlException e) when (e.InnerException is SocketException or TimeoutException || e is NpgsqlException { IsTransient: true })
        {
            throw new ProvisioningException(
                $"cannot reach PostgreSQL for {target} ({e.InnerException?.Message ?? e.Message}): is it running? Check --connection-string or Relay:ConnectionString", e);
        }
    }

    /// <summary>
    /// Checks that <paramref name="connections"/> fit the server's <c>max_connections</c> less the connections reserved
    /// for superusers and, from PostgreSQL 16, for <c>pg_use_reserved_connections</c>
    /// (<see href="https://www.postgresql.org/docs/current/runtime-config-connection.html"/>).
    /// </summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="connections">The most connections the relay will hold at once.</param>
    /// <param name="setting">The setting that decides <paramref name="connections"/>, named in the message.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="ProvisioningException">They do not fit; the message says what to change.</exception>
    public static async Task CheckBudgetAsync(NpgsqlDataSource dataSource, int connections, string setting, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            // PostgreSQL 16 reserves reserved_connections more (for pg_use_reserved_connections); 15 has no such setting.
            "SELECT current_setting('max_connections')::int, " +
            "current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0)");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (maximum, reserved) = (reader.GetInt32(0), reader.GetInt32(1));
        if (connections > maximum - reserved)
        {
            throw new ProvisioningException(
                $"the relay may hold {connections} PostgreSQL connections ({setting} plus two for the feed), but the server allows " +
                $"{maximum - reserved} (max_connections={maximum}, {reserved} reserved): lower {setting} or raise max_connections");
        }
    }
}
