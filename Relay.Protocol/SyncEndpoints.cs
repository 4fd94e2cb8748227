namespace Relay.Protocol;

/// <summary>The WebSocket endpoints and subprotocol names of the contract.</summary>
public static class SyncEndpoints
{
    /// <summary>The native endpoint, speaking one of the two subprotocols below.</summary>
    public const string WebSocketPath = "/sync/v1/ws";

    /// <summary>Binary frames, one protobuf-encoded envelope each (<see cref="ProtoFraming"/>).</summary>
    public const string ProtoSubprotocol = "openagents.sync.v1.proto";

    /// <summary>Text frames, one JSON-mapped envelope each (<see cref="JsonFraming"/>).</summary>
    public const string JsonSubprotocol = "openagents.sync.v1.json";

    /// <summary>The Phoenix Channels endpoint; clients connect with <c>?vsn=2.0.0</c>.</summary>
    public const string PhoenixPath = "/socket/websocket";

    /// <summary>
    /// Offered by phoenix.js next to its auth token protocol and chosen when offered: a browser fails an upgrade that
    /// chooses none of those it offered. The Phoenix endpoint also serves clients that offer none.
    /// </summary>
    public const string PhoenixSubprotocol = "phoenix";

    /// <summary>The only Phoenix serializer version served.</summary>
    public const string PhoenixVersion = "2.0.0";
}
