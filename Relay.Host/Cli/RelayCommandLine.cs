using System.CommandLine;
using Npgsql;
using Relay.Core.Provisioning;
using Relay.Core.Schema;
using Relay.Host.Configuration;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>The <c>relay</c> verbs. Configuration comes from appsettings, <c>Relay__…</c> variables and the options here.</summary>
public static class RelayCommandLine
{
    /// <summary>
    /// Builds the root command: <c>serve</c> (the default), <c>up</c>, <c>migrate</c>, <c>token</c>, <c>tail</c>, and the
    /// operator's <c>publish</c>, <c>prune</c>, <c>status</c> and <c>audit</c>.
    /// </summary>
    public static RootCommand Create()
    {
        var connectionString = new Option<string?>("--connection-string")
        {
            Description = "Npgsql connection string (Relay:ConnectionString); absent: the embedded default under ./.relay/",
        };
        var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {RelayServer.DefaultUrl})" };
        var feed = new Option<string?>("--feed") { Description = "How to tail the journal: replication (default) or notify" };

        var serve = new Command("serve", "Serve WebSocket sync and HTTP hydration (the default verb)") { connectionString, urls, feed };
        serve.SetAction((result, cancellationToken) =>
            RelayServer.RunAsync(ConfigurationArgs(result, connectionString, urls, feed), forceEmbedded: false, onStarted: null, cancellationToken));

        var up = new Command("up", "Start the embedded PostgreSQL under ./.relay/, migrate it and serve, until Ctrl-C") { urls, feed };
        up.SetAction((result, cancellationToken) =>
            RelayServer.RunAsync(ConfigurationArgs(result, null, urls, feed), forceEmbedded: true, PrintWelcome, cancellationToken));

        var migrate = new Command("migrate", "Apply the sql/ migrations to the database") { connectionString };
        migrate.SetAction((result, cancellationToken) => MigrateAsync(result.GetValue(connectionString), cancellationToken));
        var operators = OperatorCommands.Create(connectionString);

        var root = new RootCommand("Khala Relay: PostgreSQL-to-WebSocket sync for read-model documents") { serve, up, migrate, TokenCommand.Create(), TailCommand.Create() };
        foreach (var command in operators)
        {
            root.Subcommands.Add(command);
        }
        root.Options.Add(connectionString);
        root.Options.Add(urls);
        root.Options.Add(feed);
        root.SetAction((result, cancellationToken) =>
            RelayServer.RunAsync(ConfigurationArgs(result, connectionString, urls, feed), forceEmbedded: false, onStarted: null, cancellationToken));
        return root;
    }

    private static string[] ConfigurationArgs(ParseResult result, Option<string?>? connectionString, Option<string?> urls, Option<string?> feed)
    {
        var args = new List<string>();
        if (connectionString is not null && result.GetValue(connectionString) is { } cs)
        {
            args.Add($"--{RelayOptions.Section}:ConnectionString={cs}");
        }
        if (result.GetValue(urls) is { } u)
        {
            args.Add($"--urls={u}");
        }
        if (result.GetValue(feed) is { } f)
        {
            args.Add($"--{RelayOptions.Section}:Feed={f}");
        }
        return [.. args];
    }

    private static async Task<int> MigrateAsync(string? connectionString, CancellationToken cancellationToken)
    {
        await using var database = await CliDatabase.OpenAsync(connectionString, cancellationToken);
        var applied = await new SchemaMigrator(database.DataSource, database.Logging.CreateLogger<SchemaMigrator>()).MigrateAsync(cancellationToken);
        Console.WriteLine(applied.Count == 0 ? "schema is up to date" : $"applied {applied.Count} files: {string.Join(", ", applied)}");
        return 0;
    }

    private static void PrintWelcome(string urls, ProvisionedDatabase database, string? token)
    {
        var url = urls.Split(", ")[0];
        var ws = "ws" + url["http".Length..];
        Console.WriteLine($$$"""

            Khala Relay is up on {{{url}}}
              database: {{{database.Description}}}
                        {{{database.ConnectionString}}}

            A development token (org-1, topics runtime.*, valid 24 h):
              {{{token}}}

            Try:
              curl {{{url}}}/readyz
              curl -H "Authorization: Bearer {{{token}}}" {{{url}}}/sync/v1/list/runtime.run_summaries
              websocat --protocol openagents.sync.v1.json "{{{ws}}}/sync/v1/ws?access_token={{{token}}}"
                {"ref":"1","subscribe":{"topics":["runtime.run_summaries"]}}
              psql "{{{ToLibpq(database.ConnectionString)}}}" -c "SELECT * FROM relay.publish('runtime.run_summaries', 'run-1', '{\"status\":\"running\"}', 'org-1')"

            Ctrl-C stops the relay and its PostgreSQL; the data stays in ./.relay/ for the next run.

            """);
    }

    private static string ToLibpq(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"host={builder.Host} port={builder.Port} user={builder.Username} dbname={builder.Database}";
    }
}
