namespace Relay.Host.Development;

/// <summary>How to run a private PostgreSQL cluster from the local binaries.</summary>
public sealed record LocalClusterOptions
{
    /// <summary>The folder that holds the cluster (<c>data/</c> and <c>postgres.log</c>); created if missing.</summary>
    public required string Directory { get; init; }

    /// <summary>Keep the cluster on disk when disposed and reuse it on the next start (the embedded default); otherwise delete it. Default false.</summary>
    public bool Persistent { get; init; }

    /// <summary>Run with <c>fsync</c> on. Default true; throwaway test clusters turn it off for speed.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>
    /// Stop the server when disposed even when it was already running at start: <c>relay up</c> takes over a server that a
    /// killed run left behind. Default false: a running server is used as it is and left running (the operator's verbs).
    /// </summary>
    public bool StopIfRunning { get; init; }

    /// <summary>The database to create and connect to. Default <c>relay</c>.</summary>
    public string Database { get; init; } = "relay";
}
