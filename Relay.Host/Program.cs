using System.CommandLine;
using Relay.Host.Cli;

namespace Relay.Host;

/// <summary>The <c>relay</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the verb named on the command line (<c>serve</c> when none).</summary>
    public static Task<int> Main(string[] args) =>
        // Ctrl-C or SIGTERM cancels the verb at any moment, also while the embedded cluster starts, and leaves it time
        // to stop what it started (a web host's connections, then PostgreSQL).
        ExpectedFailure.InvokeAsync(RelayCommandLine.Create().Parse(args), new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });
}
