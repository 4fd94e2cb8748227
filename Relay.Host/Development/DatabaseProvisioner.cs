using Relay.Core.Provisioning;

namespace Relay.Host.Development;

/// <summary>
/// Picks the PostgreSQL the relay and the tests run on, in order: an explicit connection string; a private cluster
/// started from local PostgreSQL binaries; otherwise a <see cref="ProvisioningException"/> saying how to get one. (The
/// tests add a Docker container as a last resort; the relay itself carries no Docker client.)
/// </summary>
public static class DatabaseProvisioner
{
    /// <summary>Provides a database; dispose the result to stop whatever was started.</summary>
    /// <param name="connectionString">An explicit connection string, or null for none; set but empty is refused.</param>
    /// <param name="cluster">Where and how to run a local cluster when there is no connection string.</param>
    /// <param name="logger">Receives what a local cluster's start says.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ProvisionedDatabase> ProvisionAsync(
        string? connectionString, LocalClusterOptions cluster, ILogger logger, CancellationToken cancellationToken = default)
    {
        ProvisionedDatabase database;
        if (connectionString is not null && string.IsNullOrWhiteSpace(connectionString))
        {
            // Usually an unset variable ('--connection-string "$DB"', 'Relay__ConnectionString='): serving the embedded
            // database instead would hand clients an empty one.
            throw new ProvisioningException(
                "Relay:ConnectionString is set but empty (an unset variable?): give the connection string, or leave the setting out " +
                "for the embedded database under .relay/");
        }
        if (connectionString is not null)
        {
            database = new ExplicitDatabase(ConnectionStrings.Normalize(connectionString));
        }
        else if (PostgresBinaries.Find() is { } binDirectory)
        {
            database = await LocalCluster.StartAsync(cluster, binDirectory, logger, cancellationToken);
        }
        else
        {
            throw new ProvisioningException(
                "No PostgreSQL available: no connection string was given (Relay:ConnectionString) and no local PostgreSQL " +
                "binaries were found (pg_config, PATH, /usr/lib/postgresql/*/bin). Install PostgreSQL 14 or newer " +
                "(e.g. apt-get install postgresql) or set a connection string to a server with wal_level=logical.");
        }
        return database;
    }
}
