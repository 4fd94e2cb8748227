namespace Relay.Host.Diagnostics;

/// <summary>The status page (configuration section <c>Relay:StatusPage</c>).</summary>
public sealed class StatusPageOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Relay:StatusPage";

    /// <summary>
    /// Serve the status page at <c>/</c> and its data at <c>/status/v1</c>, without a token: topic names, heads, sizes,
    /// lag and the doc_keys of recent updates (never payloads). Default false; <c>relay up</c> turns it on.
    /// </summary>
    public bool Enabled { get; set; }
}
