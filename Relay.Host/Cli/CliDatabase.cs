using Npgsql;
using Relay.Core.Provisioning;
using Relay.Host.Configuration;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>
/// The database an operator's verb works on: <c>--connection-string</c>, else <c>Relay:ConnectionString</c>, else the
/// embedded default (a running <c>relay up</c>'s cluster is used as it is and left running).
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

    public static async Task<CliDatabase> OpenAsync(string? connectionString, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var options = configuration.GetSection(RelayOptions.Section).Get<RelayOptions>() ?? new RelayOptions();
        var logging = LoggerFactory.Create(builder => builder
            .AddConfiguration(configuration.GetSection("Logging"))
            .AddSimpleConsole(console => console.SingleLine = true));
        var database = await DatabaseProvisioner.ProvisionAsync(
            connectionString ?? options.ConnectionString, RelayServer.EmbeddedClusterOptions(options),
            logging.CreateLogger("Relay.Host"), cancellationToken);
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
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
