namespace Relay.Protocol;

/// <summary>
/// The numbers of the wire contract (docs/protocol/WS_MAPPING.md). Batch and payload limits are fixed by
/// the contract; the timings are the server's defaults, which clients can rely on.
/// </summary>
public static class ProtocolLimits
{
    /// <summary>Most updates in one <c>UpdateBatch</c>: 200.</summary>
    public const int MaxUpdatesPerBatch = 200;

    /// <summary>Most payload bytes, added up, in one <c>UpdateBatch</c>: 2 MiB.</summary>
    public const int MaxBatchPayloadBytes = 2 * 1024 * 1024;

    /// <summary>
    /// Largest payload sent inline: 256 KiB of UTF-8 JSON. A larger one is sent with
    /// <c>payload_omitted</c> set and fetched with <c>GET /sync/v1/doc/{doc_key}</c>.
    /// </summary>
    public const int MaxInlinePayloadBytes = 256 * 1024;

    /// <summary>Largest frame the server accepts: 1 MiB. A larger one closes the connection with 1009.</summary>
    public const int MaxInboundFrameBytes = 1024 * 1024;

    /// <summary>Largest frame the server sends, envelope included: 4 MiB. Clients accept at least this.</summary>
    public const int MaxOutboundFrameBytes = 4 * 1024 * 1024;

    /// <summary>Longest request ref: 64 bytes of UTF-8.</summary>
    public const int MaxRefBytes = 64;

    /// <summary>How often the server sends a heartbeat: every 15 seconds.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>How often a client sends something (a ping or any request) at least: every 30 seconds.</summary>
    public static readonly TimeSpan ClientPingInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long the server waits for a silent client before closing with 1001: 60 seconds.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long one send may block before the client is dropped with <c>SLOW_CONSUMER</c>: 10 seconds.</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);
}
