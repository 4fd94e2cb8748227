using System.CommandLine;
using Relay.Host.Cli;

namespace Relay.Host;

/// <summary>The <c>relay</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the verb named on the command line (<c>serve</c> when none).</summary>
    public static Task<int> Main(string[] args) =>
        // The web host handles Ctrl-C and SIGTERM itself and stops the embedded cluster after it.
        ExpectedFailure.InvokeAsync(RelayCommandLine.Create().Parse(args), new InvocationConfiguration { ProcessTerminationTimeout = null });
}
