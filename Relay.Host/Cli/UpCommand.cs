using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Relay.Core.Provisioning;
using Relay.Host.Configuration;
using Relay.Host.Development;
using Relay.Host.Diagnostics;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>
/// <c>relay up</c> (the embedded database, migrated, and the relay on it, until Ctrl-C) and <c>relay down</c> (stops the
/// embedded database). <c>up</c> records its process id in <c>up.pid</c> under the data directory, so that a second
/// <c>up</c> on the same directory is refused instead of taking over the first one's database.
/// </summary>
internal static class UpCommand
{
    private const string PidFile = "up.pid";

    public static Command Create(Option<string?> urls, Option<string?> feed, Option<string?> dataDirectory)
    {
        var up = new Command("up", "Start the embedded PostgreSQL under ./.relay/ (or --data-dir), migrate it and serve, until Ctrl-C; other settings as --Relay:Key=value")
        {
            urls, feed, dataDirectory,
        }.TakingSettings();
        up.SetAction(async (result, cancellationToken) =>
        {
            var settings = RelayCommandLine.Settings(result, null, urls, feed);
            if (settings.ContainsKey($"{RelayOptions.Section}:ConnectionString"))
            {
                throw new ProvisioningException("relay up serves its embedded database: --Relay:ConnectionString is for relay serve");
            }
            var directory = EmbeddedDirectory.ForStart(result.GetValue(dataDirectory), RelayCommandLine.Options(settings));
            using var claim = Claim(directory);
            settings[$"{RelayOptions.Section}:DataDirectory"] = directory;
            // On unless the command line turns it off.
            settings.TryAdd($"{StatusPageOptions.Section}:Enabled", "true");
            await RelayServer.RunAsync(settings, forceEmbedded: true, (url, database, token) => PrintWelcome(url, database, token, directory), cancellationToken);
            return 0;
        });
        return up;
    }

    public static Command CreateDown(Option<string?> dataDirectory)
    {
        var down = new Command("down", "Stop the embedded PostgreSQL that relay up started") { dataDirectory };
        down.SetAction(async (result, cancellationToken) =>
        {
            var directory = EmbeddedDirectory.Require(result.GetValue(dataDirectory), RelayCommandLine.Options());
            if (RunningUp(directory) is { } pid)
            {
                throw new ProvisioningException($"relay up (process {pid}) is serving {directory}: press Ctrl-C there, which stops its database too");
            }
            var binaries = PostgresBinaries.Find() ?? throw new ProvisioningException("no PostgreSQL binaries found (pg_config, PATH, /usr/lib/postgresql/*/bin)");
            var stopped = await LocalCluster.StopAsync(Path.Combine(directory, "postgres"), binaries, cancellationToken);
            await result.InvocationConfiguration.Output.WriteLineAsync(stopped
                ? $"stopped the embedded PostgreSQL in {directory}"
                : $"the embedded PostgreSQL in {directory} was not running");
            return 0;
        });
        return down;
    }

    /// <summary>Writes <c>up.pid</c>; refused while another live <c>relay up</c> holds the directory.</summary>
    private static PidClaim Claim(string directory)
    {
        if (RunningUp(directory) is { } pid)
        {
            throw new ProvisioningException($"relay up (process {pid}) already serves {directory}: stop it with Ctrl-C, or pass another --data-dir");
        }
        var created = !Directory.Exists(directory);
        var path = Path.Combine(directory, PidFile);
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file of that name, a read-only or foreign folder: one line, not the stack trace it was.
            throw new ProvisioningException($"cannot use {directory} for relay up ({e.Message}): pass another --data-dir", e);
        }
        return new PidClaim(path, created ? directory : null);
    }

    private static int? RunningUp(string directory)
    {
        var path = Path.Combine(directory, PidFile);
        if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), out var pid) || pid == Environment.ProcessId)
        {
            return null;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static void PrintWelcome(string urls, ProvisionedDatabase database, string? token, string directory)
    {
        var url = urls.Split(", ")[0];
        var ws = "ws" + url["http".Length..];
        // Verbs run elsewhere find ./.relay/ by walking up; another folder must be named to them.
        var named = Path.GetFileName(directory) == EmbeddedDirectory.DefaultName ? "" : $" --data-dir {directory}";
        Console.WriteLine($$$"""

            Khala Relay is up on {{{url}}} (status page: {{{url}}}/)
              database: {{{database.Description}}}
                        {{{database.ConnectionString}}}

            A development token (org-1, topics runtime.*, valid 24 h):
              {{{token}}}

            Try:
              curl {{{url}}}/readyz
              curl {{{url}}}/metrics
              curl -H "Authorization: Bearer {{{token}}}" {{{url}}}/sync/v1/list/runtime.run_summaries
              websocat --protocol openagents.sync.v1.json "{{{ws}}}/sync/v1/ws?access_token={{{token}}}"
                {"ref":"1","subscribe":{"topics":["runtime.run_summaries"]}}
              psql "{{{ToLibpq(database.ConnectionString)}}}" -c "SELECT * FROM relay.publish('runtime.run_summaries', 'run-1', '{\"status\":\"running\"}', 'org-1')"
              relay tail --topic runtime.run_summaries --url {{{url}}}{{{named}}}
              relay token --sub me --org org-1 --scopes 'runtime.*'{{{named}}}

            Ctrl-C stops the relay and its PostgreSQL; the data and the port stay in {{{directory}}} for the next run
            (relay down{{{named}}} stops a PostgreSQL left running).

            """);
    }

    private static string ToLibpq(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"host={builder.Host} port={builder.Port} user={builder.Username} dbname={builder.Database}";
    }

    /// <summary>Removes <c>up.pid</c>, and the directory the claim made if nothing else is in it (a start that failed early).</summary>
    private sealed class PidClaim(string path, string? createdDirectory) : IDisposable
    {
        public void Dispose()
        {
            File.Delete(path);
            if (createdDirectory is not null && !Directory.EnumerateFileSystemEntries(createdDirectory).Any())
            {
                Directory.Delete(createdDirectory);
            }
        }
    }
}
