using Microsoft.Extensions.Logging;

namespace Relay.Core.Provisioning;

/// <summary>
/// Picks the PostgreSQL the relay and the tests run on, in order: an explicit connection string; a private cluster
/// started from local PostgreSQL binaries; a Testcontainers container; otherwise a <see cref="ProvisioningException"/>
/// saying how to get one.
/// </summary>
public static partial class DatabaseProvisioner
{
    /// <summary>Provides a database; dispose the result to stop whatever was started.</summary>
    /// <param name="connectionString">An explicit connection string, used as is when not empty.</param>
    /// <param name="cluster">Where and how to run a local cluster when there is no connection string.</param>
    /// <param name="logger">Receives what was chosen.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ProvisionedDatabase> ProvisionAsync(
        string? connectionString, LocalClusterOptions cluster, ILogger logger, CancellationToken cancellationToken = default)
    {
        ProvisionedDatabase database;
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            database = new ExplicitDatabase(ConnectionStrings.Normalize(connectionString));
        }
        else if (PostgresBinaries.Find() is { } binDirectory)
        {
            database = await LocalCluster.StartAsync(cluster, binDirectory, logger, cancellationToken);
        }
        else
        {
            database = await StartContainerAsync(cancellationToken);
        }
        Log.Provisioned(logger, database.Description);
        return database;
    }

    private static async Task<ProvisionedDatabase> StartContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ContainerDatabase.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ProvisioningException(
                "No PostgreSQL available: no connection string was given (Relay:ConnectionString), no local PostgreSQL " +
                "binaries were found (pg_config, PATH, /usr/lib/postgresql/*/bin) and Docker could not start " +
                $"{ContainerDatabase.Image} ({e.Message}). Install PostgreSQL 14 or newer (e.g. apt-get install postgresql), " +
                "start Docker, or set a connection string to a server with wal_level=logical.", e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.RelayEventIds.Provisioning + 10, LogLevel.Information, "Using PostgreSQL from {Description}")]
        public static partial void Provisioned(ILogger logger, string description);
    }
}
