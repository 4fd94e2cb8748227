using System.ComponentModel.DataAnnotations;

namespace Relay.Host.Configuration;

/// <summary>The <c>Relay</c> configuration section (appsettings, <c>Relay__…</c> environment variables, command line).</summary>
public sealed class RelayOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Relay";

    /// <summary>
    /// Npgsql connection string of the database holding the <c>relay</c> schema. Default: none, which runs the embedded
    /// default, a private PostgreSQL cluster under <see cref="DataDirectory"/> started from local PostgreSQL binaries.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How the relay tails the journal: <c>replication</c> (default) or <c>notify</c>.</summary>
    [RegularExpression("^(replication|notify)$", ErrorMessage = "Relay:Feed must be 'replication' or 'notify'")]
    public string Feed { get; set; } = "replication";

    /// <summary>Where the embedded default keeps its cluster. Default <c>./.relay</c>.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".relay";

    /// <summary>
    /// The most PostgreSQL connections the relay opens for its reads (subscriptions, catch-up, pointer documents,
    /// hydration), whatever the number of clients: they wait for one instead of opening more, so a storm of clients is
    /// absorbed by the relay, never passed on to PostgreSQL. The feed takes at most two more of its own (the replication
    /// stream and the read of the heads when it connects; or the notify listener and its reader). Checked against the
    /// server's <c>max_connections</c> at start; it replaces any <c>Maximum Pool Size</c> of the connection string.
    /// Default 16.
    /// </summary>
    [Range(1, 1000)]
    public int DatabaseConnections { get; set; } = 16;

    /// <summary>Apply <c>sql/</c> migrations at start (under an advisory lock, so several relays may start at once). Default true.</summary>
    public bool AutoMigrate { get; set; } = true;
}
