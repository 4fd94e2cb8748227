using System.CommandLine;
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
            if (UpServes(directory))
            {
                throw new ProvisioningException($"a relay (relay up, or serve on the embedded database) is serving {directory}: press Ctrl-C there, which stops its database too");
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

    /// <summary>
    /// Writes <c>up.pid</c> and holds it locked for as long as this <c>relay up</c> (or <c>serve</c> on the embedded
    /// database) runs: the lock, not the pid, says that a relay serves the directory. It dies with the process, where a
    /// pid left by a killed <c>up</c> may be another process's later, and kept both <c>up</c> and <c>down</c> refusing.
    /// Refused while another holds it.
    /// </summary>
    internal static IDisposable Claim(string directory)
    {
        var created = !Directory.Exists(directory);
        var path = Path.Combine(directory, PidFile);
        FileStream claim;
        try
        {
            Directory.CreateDirectory(directory);
            // Not FileMode.Create: that truncates the file before the lock is tried, a live claim's too.
            claim = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
        }
        catch (IOException e) when (IsLocked(e))
        {
            throw new ProvisioningException($"a relay (relay up, or serve on the embedded database) already serves {directory}: stop it with Ctrl-C there, or pass another --data-dir", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file of that name, a read-only or foreign folder: one line, not the stack trace it was.
            throw new ProvisioningException($"cannot use {directory} for relay up ({e.Message}): pass another --data-dir", e);
        }
        claim.SetLength(0);
        claim.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        claim.Flush();
        return new PidClaim(path, claim, created ? directory : null);
    }

    /// <summary>Whether a live <c>relay up</c> (or <c>serve</c> on the embedded database) holds <paramref name="directory"/>'s <c>up.pid</c> locked.</summary>
    private static bool UpServes(string directory)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(directory, PidFile), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException e) when (IsLocked(e))
        {
            return true;
        }
    }

    /// <summary>
    /// The sharing violation .NET reports when another process holds a file's lock: ERROR_SHARING_VIOLATION on Windows,
    /// flock's EWOULDBLOCK on Linux (11) and macOS (35).
    /// </summary>
    private static bool IsLocked(IOException e) => e.GetType() == typeof(IOException) && e.HResult is unchecked((int)0x80070020) or 11 or 35;

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
    private sealed class PidClaim(string path, FileStream claim, string? createdDirectory) : IDisposable
    {
        public void Dispose()
        {
            File.Delete(path);
            claim.Dispose();
            if (createdDirectory is not null && !Directory.EnumerateFileSystemEntries(createdDirectory).Any())
            {
                Directory.Delete(createdDirectory);
            }
        }
    }
}
