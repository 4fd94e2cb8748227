using Microsoft.Extensions.Options;
using Relay.Core.Auth;
using Relay.Core.Diagnostics;
using Relay.Core.Provisioning;
using Relay.Core.Schema;
using Relay.Host.Configuration;
using Relay.Host.Cors;
using Relay.Host.Development;
using Relay.Host.Diagnostics;
using Relay.Host.Hydration;
using Relay.Host.Sync;
using Relay.Protocol;
using Relay.Protocol.Hydration;

namespace Relay.Host.Hosting;

/// <summary>Builds and runs the relay's web host on a provisioned database.</summary>
public static partial class RelayServer
{
    /// <summary>Where the relay listens when no <c>urls</c> are configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// Provisions the database (explicit, or the embedded default), migrates it if configured, and serves until
    /// Ctrl-C or SIGTERM; then stops whatever it started.
    /// </summary>
    /// <param name="settings">Configuration keys over appsettings and the environment (<c>Relay:Feed</c>, <c>urls</c>).</param>
    /// <param name="forceEmbedded">Ignore any connection string and use the embedded default (<c>relay up</c>).</param>
    /// <param name="onStarted">Called once the relay listens, with its address, database and (for <c>up</c>) a dev token.</param>
    /// <param name="cancellationToken">Stops the relay.</param>
    /// <exception cref="OptionsValidationException">A setting is invalid; nothing was started.</exception>
    public static async Task RunAsync(
        IReadOnlyDictionary<string, string?> settings, bool forceEmbedded, Action<string, ProvisionedDatabase, string?>? onStarted,
        CancellationToken cancellationToken = default)
    {
        // appsettings.json ships beside the executable; relative paths in settings resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        var urls = builder.Configuration["urls"] ?? DefaultUrl;
        builder.WebHost.UseUrls(urls);
        ListenAddresses.Check(urls, builder.Configuration);
        // An invalid setting stops the start here, before a cluster or a migration runs; the host checks again at start.
        var options = RelayOptionsRegistration.Validate(builder.Configuration);
        builder.Services.AddRelayOptions();
        builder.Services.AddRelayCors(builder.Configuration, forceEmbedded);

        using var startupLogging = RelayBootstrap.CreateLoggerFactory(builder.Configuration, toStandardError: false);
        var logger = startupLogging.CreateLogger("Relay.Host");
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        // relay up trusts a development key kept under the data directory, and prints a token signed with it.
        var devToken = forceEmbedded ? DevTokens.PrepareEmbedded(auth, options.DataDirectory) : null;
        var tokens = new TokenValidator(auth, startupLogging.CreateLogger<TokenValidator>());
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            forceEmbedded ? null : options.ConnectionString,
            EmbeddedClusterOptions(options) with { StopIfRunning = forceEmbedded }, logger, cancellationToken);
        // Said by the server only: an operator's verb (relay migrate, status, ...) answers in one line, its failures too.
        Log.Provisioned(logger, database.Description);

        // Named, so that a DBA tells the relays' backends and walsenders apart in pg_stat_activity, unless set already.
        var connectionString = ConnectionStrings.WithApplicationName(database.ConnectionString, $"khala-relay {Environment.MachineName}");
        await using var dataSource = RelayBootstrap.CreateDataSource(connectionString, startupLogging, options.DatabaseConnections);
        await DatabaseCheck.CheckAsync(dataSource, needsLogicalReplication: options.Feed == "replication", cancellationToken);
        // The pool's connections and the feed's two must fit what PostgreSQL allows.
        await DatabaseCheck.CheckBudgetAsync(dataSource, options.DatabaseConnections + 2, "Relay:DatabaseConnections", cancellationToken);
        var migrator = new SchemaMigrator(dataSource, startupLogging.CreateLogger<SchemaMigrator>());
        if (options.AutoMigrate)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
        else if (await migrator.PendingAsync(cancellationToken) is [var first, ..] pending)
        {
            // Started against a schema someone else installs: a missing or older one would fail every read, so say so now.
            throw new ProvisioningException(
                $"the relay schema in this database is missing or older than this relay ({pending.Count} of its sql/ files never applied, sql/{first} first): " +
                "run relay migrate, or start with Relay:AutoMigrate=true");
        }

        // The feed opens connections of its own: the data source's ConnectionString has lost the password.
        builder.Services.AddRelayCore(options, dataSource, connectionString);
        builder.Services.AddRelaySync(tokens);
        builder.Services.AddRelayMetrics();
        builder.Services.AddJsonErrors();
        builder.Services.AddSingleton<Readiness>();
        await using var app = builder.Build();
        app.UseCors();
        app.UseJsonErrors();
        app.MapRelayMetrics();
        MapHealth(app);
        app.MapSync();
        app.MapHydration();
        await app.StartAsync(cancellationToken);
        onStarted?.Invoke(string.Join(", ", app.Urls), database, devToken);
        await app.WaitForShutdownAsync(cancellationToken);
    }

    /// <summary>The embedded default's cluster: persistent, durable, in <c>postgres/</c> under <see cref="RelayOptions.DataDirectory"/>.</summary>
    public static LocalClusterOptions EmbeddedClusterOptions(RelayOptions options) =>
        new() { Directory = Path.GetFullPath(Path.Combine(options.DataDirectory, "postgres")), Persistent = true };

    private static void MapHealth(WebApplication app)
    {
        app.MapMethods("/healthz", ReadMethods.GetOrHead, () => Results.Text("ok"));
        app.MapMethods("/readyz", ReadMethods.GetOrHead, async (Readiness readiness, CancellationToken cancellationToken) =>
            await readiness.CheckAsync(cancellationToken) is { } reason
                ? Results.Json(new HttpError(HttpErrorCodes.Unavailable, reason), HydrationJsonContext.Default.HttpError, statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready"));
    }

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Provisioning + 10, LogLevel.Information, "Using PostgreSQL from {Description}")]
        public static partial void Provisioned(ILogger logger, string description);
    }
}
