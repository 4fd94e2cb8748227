namespace Relay.Protocol.Phoenix;

/// <summary>The event names of the Phoenix framing (docs/protocol/WS_MAPPING.md).</summary>
public static class PhoenixEvents
{
    /// <summary>Client: join the channel; payload <c>{"token": ...}</c>, token optional.</summary>
    public const string Join = "phx_join";

    /// <summary>Client: leave the channel.</summary>
    public const string Leave = "phx_leave";

    /// <summary>Client, on topic <c>phoenix</c>: keep the connection alive.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>Client: <c>Subscribe</c>.</summary>
    public const string Subscribe = "subscribe";

    /// <summary>Client: <c>Unsubscribe</c>.</summary>
    public const string Unsubscribe = "unsubscribe";

    /// <summary>Client: <c>RefreshAuth</c>.</summary>
    public const string RefreshAuth = "refresh_auth";

    /// <summary>Server: the answer to a client event, <c>{"status": "ok"|"error", "response": ...}</c>.</summary>
    public const string Reply = "phx_reply";

    /// <summary>Server: an <c>UpdateBatch</c>.</summary>
    public const string UpdateBatch = "update_batch";

    /// <summary>Server: an unsolicited <c>Error</c>. The server's <c>Heartbeat</c> goes out as <see cref="Heartbeat"/>.</summary>
    public const string Error = "error";
}
