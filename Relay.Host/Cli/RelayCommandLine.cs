using System.CommandLine;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Relay.Core.Schema;
using Relay.Host.Configuration;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>The <c>relay</c> verbs. Configuration comes from appsettings, <c>Relay__…</c> variables and the options here.</summary>
public static partial class RelayCommandLine
{
    /// <summary>
    /// Builds the root command: <c>serve</c> (the default), <c>up</c>, <c>down</c>, <c>migrate</c>, <c>token</c>, <c>tail</c>,
    /// <c>probe</c>, and the operator's <c>publish</c>, <c>prune</c>, <c>status</c> and <c>audit</c>.
    /// </summary>
    public static RootCommand Create()
    {
        var connectionString = new Option<string?>("--connection-string")
        {
            Description = "Npgsql connection string or postgres:// URL (Relay:ConnectionString); absent: the embedded database under ./.relay/",
        };
        var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {RelayServer.DefaultUrl})" };
        var feed = new Option<string?>("--feed") { Description = "How to tail the journal: replication (default) or notify" };
        var dataDirectory = CliOptions.DataDirectory();

        var serve = new Command("serve", "Serve WebSocket sync and HTTP hydration (the default verb); other settings as --Relay:Key=value")
        {
            connectionString, urls, feed, dataDirectory,
        }.TakingSettings();
        serve.SetAction((result, cancellationToken) => ServeAsync(result, connectionString, urls, feed, dataDirectory, cancellationToken));

        var migrate = new Command("migrate", "Apply the sql/ migrations to the database") { connectionString, dataDirectory };
        migrate.SetAction((result, cancellationToken) => MigrateAsync(result.GetValue(connectionString), result.GetValue(dataDirectory), cancellationToken));

        var root = new RootCommand("Khala Relay: PostgreSQL-to-WebSocket sync for read-model documents")
        {
            serve, UpCommand.Create(urls, feed, dataDirectory), UpCommand.CreateDown(dataDirectory), migrate, TokenCommand.Create(),
            TailCommand.Create(dataDirectory), ProbeCommand.Create(),
        };
        foreach (var command in OperatorCommands.Create(connectionString, dataDirectory))
        {
            root.Subcommands.Add(command);
        }
        root.Options.Add(connectionString);
        root.Options.Add(urls);
        root.Options.Add(feed);
        root.Options.Add(dataDirectory);
        root.SetAction((result, cancellationToken) => ServeAsync(result, connectionString, urls, feed, dataDirectory, cancellationToken));
        return root;
    }

    /// <summary>
    /// The <c>Relay</c> section as appsettings, the environment and <paramref name="settings"/> (a verb's own
    /// arguments) give it, validated, for the verbs that run no host, and for what <c>serve</c> and <c>up</c> decide first.
    /// </summary>
    internal static RelayOptions Options(IReadOnlyDictionary<string, string?>? settings = null) =>
        RelayOptionsRegistration.Get<RelayOptions>(RelayBootstrap.Configuration(settings));

    /// <summary>The options <c>serve</c> and <c>up</c> share, as the configuration keys they set.</summary>
    internal static Dictionary<string, string?> Settings(ParseResult result, Option<string?>? connectionString, Option<string?> urls, Option<string?> feed)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (connectionString is not null && result.GetValue(connectionString) is { } cs)
        {
            settings[$"{RelayOptions.Section}:ConnectionString"] = cs;
        }
        if (result.GetValue(urls) is { } u)
        {
            settings["urls"] = u;
        }
        if (result.GetValue(feed) is { } f)
        {
            settings[$"{RelayOptions.Section}:Feed"] = f;
        }
        // Any other setting, as .NET's command-line configuration takes it: --Relay:Sync:SendTimeout=00:00:05.
        foreach (var token in result.UnmatchedTokens)
        {
            var setting = SettingArgument().Match(token);
            if (!setting.Success)
            {
                var verb = $"relay {result.CommandResult.Command.Name}";
                throw new OptionsValidationException("command line", typeof(RelayOptions),
                    [$"'{token}' is neither an option of {verb} nor a setting such as --Relay:Feed=notify; {verb} --help lists the options"]);
            }
            settings[setting.Groups[1].Value] = setting.Groups[2].Value;
        }
        return settings;
    }

    /// <summary>Lets <paramref name="command"/> take settings as arguments (<see cref="Settings"/> reads them).</summary>
    internal static Command TakingSettings(this Command command)
    {
        command.TreatUnmatchedTokensAsErrors = false;
        return command;
    }

    [GeneratedRegex("^--?([A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_]+)+)=(.*)$")]
    private static partial Regex SettingArgument();

    private static async Task<int> ServeAsync(
        ParseResult result, Option<string?> connectionString, Option<string?> urls, Option<string?> feed, Option<string?> dataDirectory,
        CancellationToken cancellationToken)
    {
        // Without a connection string, serve runs on the embedded database, found as up finds it.
        var settings = Settings(result, connectionString, urls, feed);
        // --Relay:DataDirectory=… counts as much as the environment's: before, it was overwritten, and serve started an
        // empty database in ./.relay instead.
        var options = Options(settings);
        var directory = EmbeddedDirectory.ForStart(result.GetValue(dataDirectory), options);
        settings[$"{RelayOptions.Section}:DataDirectory"] = directory;
        // On the embedded database, claimed as up claims it: relay down would otherwise stop it under this serve.
        using var claim = string.IsNullOrEmpty(options.ConnectionString) ? UpCommand.Claim(directory) : null;
        await RelayServer.RunAsync(settings, forceEmbedded: false, onStarted: null, cancellationToken);
        return 0;
    }

    private static async Task<int> MigrateAsync(string? connectionString, string? dataDirectory, CancellationToken cancellationToken)
    {
        await using var database = await CliDatabase.OpenAsync(connectionString, dataDirectory, cancellationToken);
        var applied = await new SchemaMigrator(database.DataSource, database.Logging.CreateLogger<SchemaMigrator>()).MigrateAsync(cancellationToken);
        Console.WriteLine(applied.Count == 0 ? "schema is up to date" : $"applied {applied.Count} files: {string.Join(", ", applied)}");
        return 0;
    }
}
