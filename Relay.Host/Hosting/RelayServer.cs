using Microsoft.Extensions.Options;
using Npgsql;
using Relay.Core.Auth;
using Relay.Core.Provisioning;
using Relay.Core.Schema;
using Relay.Host.Configuration;
using Relay.Host.Cors;
using Relay.Host.Development;
using Relay.Host.Diagnostics;
using Relay.Host.Hydration;
using Relay.Host.Sync;

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
    /// <param name="args">Configuration arguments (<c>--Relay:Feed=notify</c>, <c>--urls=…</c>).</param>
    /// <param name="forceEmbedded">Ignore any connection string and use the embedded default (<c>relay up</c>).</param>
    /// <param name="onStarted">Called once the relay listens, with its address, database and (for <c>up</c>) a dev token.</param>
    /// <param name="cancellationToken">Stops the relay.</param>
    public static async Task RunAsync(
        string[] args, bool forceEmbedded, Action<string, ProvisionedDatabase, string?>? onStarted, CancellationToken cancellationToken = default)
    {
        // appsettings.json ships beside the executable; relative paths in settings resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(builder.Configuration["urls"] ?? DefaultUrl);
        var options = builder.Configuration.GetSection(RelayOptions.Section).Get<RelayOptions>() ?? new RelayOptions();
        Validate(options);
        builder.Services.AddRelayCors(builder.Configuration, forceEmbedded);

        using var startupLogging = LoggerFactory.Create(logging => logging
            .AddConfiguration(builder.Configuration.GetSection("Logging"))
            .AddSimpleConsole(console => console.SingleLine = true));
        var logger = startupLogging.CreateLogger("Relay.Host");
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        // relay up trusts a development key kept under the data directory, and prints a token signed with it.
        var devToken = forceEmbedded ? DevTokens.PrepareEmbedded(auth, options.DataDirectory) : null;
        var tokens = new TokenValidator(auth, startupLogging.CreateLogger<TokenValidator>());
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            forceEmbedded ? null : options.ConnectionString,
            EmbeddedClusterOptions(options) with { StopIfRunning = forceEmbedded }, logger, cancellationToken);

        await using var dataSource = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = options.DatabaseConnections }.ConnectionString);
        await DatabaseCheck.CheckAsync(dataSource, needsLogicalReplication: options.Feed == "replication", cancellationToken);
        // The pool's connections and the feed's two must fit what PostgreSQL allows.
        await DatabaseCheck.CheckBudgetAsync(dataSource, options.DatabaseConnections + 2, "Relay:DatabaseConnections", cancellationToken);
        if (options.AutoMigrate)
        {
            await new SchemaMigrator(dataSource, startupLogging.CreateLogger<SchemaMigrator>()).MigrateAsync(cancellationToken);
        }

        builder.Services.AddRelayCore(builder.Configuration, options, dataSource);
        builder.Services.AddRelaySync(builder.Configuration, tokens);
        builder.Services.AddRelayMetrics(builder.Configuration);
        builder.Services.AddJsonErrors();
        builder.Services.AddSingleton(Options.Create(options));
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

    /// <summary>Throws a <see cref="OptionsValidationException"/> listing every invalid setting.</summary>
    public static void Validate(RelayOptions options)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(
                options, new System.ComponentModel.DataAnnotations.ValidationContext(options), results, validateAllProperties: true))
        {
            throw new OptionsValidationException(RelayOptions.Section, typeof(RelayOptions),
                results.Select(r => r.ErrorMessage ?? "invalid"));
        }
    }

    private static void MapHealth(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (Readiness readiness, CancellationToken cancellationToken) =>
            await readiness.CheckAsync(cancellationToken) is { } reason
                ? Results.Json(new { error = "UNAVAILABLE", message = reason }, statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready"));
    }
}
