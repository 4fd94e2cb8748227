using System.ComponentModel.DataAnnotations;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>WebSocket delivery settings (configuration section <c>Relay:Sync</c>).</summary>
public sealed class SyncOptions
{
    /// <summary>How often the server sends each connection a <c>Heartbeat</c>. Default 15 s; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = ProtocolLimits.HeartbeatInterval;

    /// <summary>A connection that sends nothing for this long is closed with 1001. Default 60 s; between 1 ms and 1 day.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = ProtocolLimits.IdleTimeout;

    /// <summary>
    /// A Phoenix connection that brought no token in its socket params, and has not joined with one this long after the
    /// upgrade, gets <c>UNAUTHORIZED</c> and is closed with 1008: a socket never holds a place without a token. Default
    /// 10 s; between 1 ms and 1 h.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A single send blocked this long ends the connection with <c>SLOW_CONSUMER</c> (close 1013). Default 10 s; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan SendTimeout { get; set; } = ProtocolLimits.SendTimeout;

    /// <summary>Largest frame a client may send; larger gets <c>PAYLOAD_TOO_LARGE</c> and close 1009. Default 1 MiB; between 1 KiB and 64 MiB.</summary>
    [Range(1024, 64 << 20)]
    public int MaxInboundFrameBytes { get; set; } = ProtocolLimits.MaxInboundFrameBytes;

    /// <summary>Most topics one <c>Subscribe</c> may name; more is <c>BAD_REQUEST</c>. Default 64; between 1 and 10,000.</summary>
    [Range(1, 10_000)]
    public int MaxTopicsPerSubscribe { get; set; } = 64;

    /// <summary>Most topics one connection may be subscribed to at once; more is <c>BAD_REQUEST</c>. Default 256; between 1 and 100,000.</summary>
    [Range(1, 100_000)]
    public int MaxTopicsPerConnection { get; set; } = 256;

    /// <summary>
    /// Bytes of encoded frames queued for one connection before its topic readers wait (and, if the client stays slow,
    /// fall behind into journal catch-up). A single frame larger than this still goes alone. Default 1 MiB; between 1 and 1 GiB.
    /// </summary>
    [Range(1, 1 << 30)]
    public int OutboundQueueBytes { get; set; } = 1024 * 1024;

    /// <summary>How long shutdown waits for connections to close after telling them (1012). Default 5 s; between 0 and 10 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
