using System.ComponentModel.DataAnnotations;

namespace Relay.Host.Diagnostics;

/// <summary>Metrics settings (configuration section <c>Relay:Metrics</c>).</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Relay:Metrics";

    /// <summary>
    /// How often the relay reads the journal's sizes, retained windows, replication slots and statistics from the
    /// database (one short query each time). Default 15 s; between 100 ms and 1 h.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);
}

