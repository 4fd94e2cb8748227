using Npgsql;

namespace Relay.Core.Journal;

/// <summary>
/// PostgreSQL cannot answer right now: it is down, restarting, refusing connections, or the connection broke. Clients
/// are told <c>UNAVAILABLE</c> with a retry delay; nothing is wrong with their request.
/// </summary>
public sealed class DatabaseUnavailableException(Exception inner)
    : Exception($"the database is unavailable: {inner.Message}", inner)
{
    /// <summary>
    /// Whether <paramref name="exception"/> means the database is unavailable rather than a bug: a transient Npgsql
    /// failure, a connection exception (SQLSTATE class 08) or operator intervention (class 57: shutdown, crash,
    /// cannot connect now). See <see href="https://www.postgresql.org/docs/current/errcodes-appendix.html"/>.
    /// </summary>
    public static bool Means(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        _ => false,
    };
}
