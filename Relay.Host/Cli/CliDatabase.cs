using Npgsql;
using Relay.Core.Provisioning;
using Relay.Host.Configuration;
using Relay.Host.Development;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>
/// The database an operator's verb works on: <c>--connection-string</c>, else <c>Relay:ConnectionString</c>, else the
/// embedded database found by <see cref="EmbeddedDirectory"/> (a running <c>relay up</c>'s cluster is used as it is and
/// left running); none found is an error, never a new empty cluster.
/// </summary>
internal sealed class CliDatabase : IAsyncDisposable
{
    private CliDatabase(ProvisionedDatabase database, NpgsqlDataSource dataSource, ILoggerFactory logging)
    {
        Database = database;
        DataSource = dataSource;
        Logging = logging;
    }

    public ProvisionedDatabase Database { get; }

    public NpgsqlDataSource DataSource { get; }

    public ILoggerFactory Logging { get; }

    public static async Task<CliDatabase> OpenAsync(string? connectionString, string? dataDirectory, CancellationToken cancellationToken)
    {
        var configuration = RelayBootstrap.Configuration();
        var options = RelayOptionsRegistration.Get<RelayOptions>(configuration);
        connectionString ??= options.ConnectionString;
        if (connectionString is null)
        {
            options.DataDirectory = EmbeddedDirectory.Require(dataDirectory, options);
        }
        // Standard output carries the verb's answer (JSON lines); what the relay says about itself goes to standard error.
        var logging = RelayBootstrap.CreateLoggerFactory(configuration, toStandardError: true);
        var database = await DatabaseProvisioner.ProvisionAsync(
            connectionString, RelayServer.EmbeddedClusterOptions(options),
            logging.CreateLogger("Relay.Host"), cancellationToken);
        var dataSource = RelayBootstrap.CreateDataSource(database.ConnectionString, logging);
        try
        {
            await DatabaseCheck.CheckAsync(dataSource, needsLogicalReplication: false, cancellationToken);
        }
        catch
        {
            await dataSource.DisposeAsync();
            await database.DisposeAsync();
            logging.Dispose();
            throw;
        }
        return new CliDatabase(database, dataSource, logging);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
        Logging.Dispose();
    }
}
