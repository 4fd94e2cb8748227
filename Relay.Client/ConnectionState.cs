namespace Relay.Client;

/// <summary>Where a <see cref="RelayClient"/>'s connection stands.</summary>
public enum ConnectionState
{
    /// <summary>Opening a WebSocket.</summary>
    Connecting,

    /// <summary>Connected, and the subscriptions were sent.</summary>
    Connected,

    /// <summary>The connection ended; the client waits for its backoff delay before reconnecting.</summary>
    Disconnected,

    /// <summary>The client was disposed and no longer connects.</summary>
    Stopped,
}
