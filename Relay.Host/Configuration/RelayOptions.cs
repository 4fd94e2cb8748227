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

    /// <summary>Apply <c>sql/</c> migrations at start (under an advisory lock, so several relays may start at once). Default true.</summary>
    public bool AutoMigrate { get; set; } = true;
}
