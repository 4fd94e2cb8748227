using System.CommandLine;
using Npgsql;
using Relay.Host.Cli;
using Relay.Host.Configuration;

namespace Relay.Host;

/// <summary>The <c>relay</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the verb named on the command line (<c>serve</c> when none).</summary>
    public static async Task<int> Main(string[] args)
    {
        // The feeds' replication and listen connections are not opened through a data source: Npgsql logs them through
        // its process-wide factory, which lives as long as the process.
        ILoggerFactory npgsqlLogging;
        try
        {
            npgsqlLogging = RelayBootstrap.CreateLoggerFactory(RelayBootstrap.Configuration(), toStandardError: true);
        }
        catch (Exception e) when (ExpectedFailure.Describe(e) is { } line)
        {
            // A malformed appsettings.json or a log level that is none: every verb, relay probe too, would end in a stack trace.
            await Console.Error.WriteLineAsync($"relay: {line}");
            return ExpectedFailure.ExitCode;
        }
        using var _ = npgsqlLogging;
        NpgsqlLoggingConfiguration.InitializeLogging(npgsqlLogging);
        // Ctrl-C or SIGTERM cancels the verb at any moment, also while the embedded cluster starts, and leaves it time
        // to stop what it started (a web host's connections, then PostgreSQL).
        return await ExpectedFailure.InvokeAsync(
            RelayCommandLine.Create().Parse(args), new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });
    }
}
