namespace Relay.Protocol.Phoenix;

/// <summary>The events a Phoenix client sends.</summary>
public enum PhoenixClientEvent
{
    /// <summary><c>phx_join</c> on <c>sync:v1</c>.</summary>
    Join,

    /// <summary><c>phx_leave</c> on <c>sync:v1</c>.</summary>
    Leave,

    /// <summary><c>heartbeat</c> on <c>phoenix</c>.</summary>
    Heartbeat,

    /// <summary><c>subscribe</c> on <c>sync:v1</c>.</summary>
    Subscribe,

    /// <summary><c>unsubscribe</c> on <c>sync:v1</c>.</summary>
    Unsubscribe,

    /// <summary><c>refresh_auth</c> on <c>sync:v1</c>.</summary>
    RefreshAuth,
}
