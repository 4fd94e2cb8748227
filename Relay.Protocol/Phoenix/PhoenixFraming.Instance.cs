using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Phoenix;

public sealed partial class PhoenixFraming
{
    /// <summary>The framing, as the Host's Phoenix connections use it.</summary>
    public static readonly PhoenixFraming Instance = new();

    private PhoenixFraming()
    {
    }

    /// <inheritdoc/>
    public string Name => "phoenix";

    /// <inheritdoc/>
    public string Subprotocol => SyncEndpoints.PhoenixSubprotocol;

    /// <inheritdoc/>
    public WebSocketMessageType MessageType => WebSocketMessageType.Text;

    /// <inheritdoc/>
    byte[] IFraming.EncodePush(ServerEnvelope envelope) => Encode(envelope, joinRef: null);

    /// <inheritdoc/>
    byte[] IFraming.EncodeReply(ServerEnvelope envelope, string? channel) => Encode(envelope, channel);

    /// <inheritdoc/>
    PhoenixClientFrame IFraming<PhoenixClientFrame>.DecodeClient(ReadOnlySpan<byte> frame) => Decode(frame);
}
