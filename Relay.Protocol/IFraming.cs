using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Protocol;

/// <summary>
/// One framing of WS_MAPPING §3: how server envelopes become WebSocket frames on a connection, whatever it reads from
/// the client (SignalR's <c>IHubProtocol</c> is the model). A framing is stateless and shared by every connection; what a
/// connection knows (a Phoenix channel's join_ref) is passed in.
/// </summary>
public interface IFraming
{
    /// <summary>The framing's short name (<c>proto</c>, <c>json</c>, <c>phoenix</c>): in logs and in the frame cache's key.</summary>
    string Name { get; }

    /// <summary>The WebSocket subprotocol that selects this framing, chosen at the upgrade when the client offers it.</summary>
    string Subprotocol { get; }

    /// <summary>The type of every frame, both ways; a frame of the other type closes the connection with 1003.</summary>
    WebSocketMessageType MessageType { get; }

    /// <summary>Encodes a push (no ref): the same bytes for every connection of this framing, so one encoding is shared.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    byte[] EncodePush(ServerEnvelope envelope);

    /// <summary>Encodes the answer to a request (the envelope carries the request's ref).</summary>
    /// <param name="envelope">The answer.</param>
    /// <param name="channel">The channel the request came on (Phoenix's join_ref); null where the framing has none.</param>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    byte[] EncodeReply(ServerEnvelope envelope, string? channel);
}
