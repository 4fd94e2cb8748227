namespace Relay.Host.Cors;

/// <summary>
/// The <c>Relay:Cors</c> configuration section: which browser origins may call the relay's HTTP endpoints
/// (<c>/sync/v1/doc</c>, <c>/sync/v1/list</c>, health and metrics). WebSocket upgrades are not subject to CORS.
/// </summary>
public sealed class RelayCorsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Relay:Cors";

    /// <summary>
    /// Origins allowed, each <c>scheme://host[:port]</c> exactly as a browser sends it (<c>https://admin.example.com</c>),
    /// or <c>*</c> for any origin. Default: none, so no cross-origin call is allowed.
    /// </summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>
    /// Also allow any <c>http://localhost:*</c> and <c>http://127.0.0.1:*</c> origin, for a development server on any port.
    /// Default: true under <c>relay up</c>, false otherwise.
    /// </summary>
    public bool? AllowLocalhost { get; set; }
}
