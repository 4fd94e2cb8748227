using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Host.Sync;

/// <summary>One of the three framings of WS_MAPPING §3: how envelopes become frames on this connection.</summary>
internal sealed class SyncWire
{
    public static readonly SyncWire Proto = new("proto", WebSocketMessageType.Binary, ProtoFraming.Encode);
    public static readonly SyncWire Json = new("json", WebSocketMessageType.Text, JsonFraming.Encode);
    public static readonly SyncWire Phoenix = new("phoenix", WebSocketMessageType.Text, envelope => PhoenixFraming.Encode(envelope, joinRef: null));

    private readonly Func<ServerEnvelope, byte[]> _encodePush;

    private SyncWire(string name, WebSocketMessageType messageType, Func<ServerEnvelope, byte[]> encodePush)
    {
        Name = name;
        MessageType = messageType;
        _encodePush = encodePush;
    }

    public string Name { get; }

    public WebSocketMessageType MessageType { get; }

    /// <summary>Encodes a push (no ref): the same bytes for every connection of this framing.</summary>
    public byte[] EncodePush(ServerEnvelope envelope) => _encodePush(envelope);
}
