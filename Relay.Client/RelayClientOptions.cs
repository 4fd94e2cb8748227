using Relay.Protocol;

namespace Relay.Client;

/// <summary>How a <see cref="RelayClient"/> reaches the relay and behaves. Only <see cref="Url"/> and <see cref="TokenProvider"/> are required.</summary>
public sealed class RelayClientOptions
{
    /// <summary>The relay's HTTP base address, e.g. <c>http://127.0.0.1:8080</c>; the WebSocket URL is derived from it.</summary>
    public required Uri Url { get; init; }

    /// <summary>
    /// Returns a bearer token (a JWT). Called at every connect, for every HTTP request, and ahead of the
    /// token's expiry to refresh it in band; return a fresh token when the one before is about to expire.
    /// </summary>
    public required Func<CancellationToken, ValueTask<string>> TokenProvider { get; init; }

    /// <summary>Use the <c>openagents.sync.v1.json</c> subprotocol instead of the binary one. Default: false.</summary>
    public bool UseJson { get; init; }

    /// <summary>Where resume points are kept. Default: a new <see cref="InMemoryWatermarkStore"/>.</summary>
    public IWatermarkStore WatermarkStore { get; init; } = new InMemoryWatermarkStore();

    /// <summary>The document cache. Default: a new, empty <see cref="DocumentCache"/>.</summary>
    public DocumentCache Cache { get; init; } = new();

    /// <summary>
    /// Called on <c>STALE_CURSOR</c> for a topic with the client and the topic; returns the watermark to
    /// subscribe from, which the client stores. Default: <see cref="RelayClient.HydrateAsync"/>, which re-reads
    /// the topic over HTTP and replaces its cache entries.
    /// </summary>
    public Func<RelayClient, string, CancellationToken, ValueTask<long>>? OnStaleCursor { get; init; }

    /// <summary>The first reconnect delay's upper bound (full jitter: the delay is random below it). Default: 1 s.</summary>
    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest reconnect delay bound; the bound doubles after each failure up to it. Default: 30 s.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection that stays up this long resets the reconnect delay to its first value. Default: 60 s.</summary>
    public TimeSpan ReconnectResetAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Check every received payload against its <c>payload_hash</c> (the relay's canonical hash); a mismatch is a
    /// <see cref="PayloadHashMismatchException"/>, reported through <see cref="RelayClient.ConnectionFailed"/> (or thrown
    /// by <see cref="RelayClient.HydrateAsync"/>), and nothing of it is applied. Default: true.
    /// </summary>
    public bool VerifyPayloadHashes { get; init; } = true;

    /// <summary>When nothing was sent for this long, a <c>Ping</c> is sent. Default: 30 s.</summary>
    public TimeSpan PingInterval { get; init; } = ProtocolLimits.ClientPingInterval;

    /// <summary>With no frame from the server for this long, the client drops the connection and reconnects. Default: 45 s.</summary>
    public TimeSpan ServerSilenceTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// How long a <c>Subscribe</c> may go unanswered. Past it the connection is taken for broken: it fails with a
    /// <see cref="TimeoutException"/> (reported through <see cref="RelayClient.ConnectionFailed"/>) and the client
    /// reconnects after backoff, subscribing again; heartbeats of other topics would otherwise keep the connection alive
    /// with the topic not followed, silently. The relay answers at once unless it must read the database first (a resume
    /// point its logs no longer hold), which its own database timeouts bound. Default: 30 s.
    /// </summary>
    public TimeSpan SubscribeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long before the token's <c>exp</c> a fresh one is sent with <c>RefreshAuth</c>. Default: 60 s.</summary>
    public TimeSpan TokenRefreshMargin { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long to wait for the WebSocket upgrade. Default: 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long any call of <see cref="TokenProvider"/> is waited for. One that does not answer is left behind: at
    /// connect, or for an HTTP request, the connection fails with a <see cref="TimeoutException"/> (reported through
    /// <see cref="RelayClient.ConnectionFailed"/>) and the client reconnects after backoff, asking again; for an in-band
    /// refresh, it is asked again later while the connection goes on. Default: 30 s.
    /// </summary>
    public TimeSpan TokenProviderTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The HTTP handler for hydration requests. Default: a new <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }
}
