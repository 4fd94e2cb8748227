using System.Net.WebSockets;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Host.Sync;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>
/// Every framing the Host serves, driven only through <see cref="IFraming"/> as its connections drive it: a client's
/// request decodes to what the client meant, and a push or a reply decodes back to the envelope encoded.
/// </summary>
[TestFixture]
public sealed class FramingSeamTests
{
    /// <summary>What a client of each native framing does: encode its requests, decode the relay's frames.</summary>
    private static readonly Dictionary<string, (Func<ClientEnvelope, byte[]> Encode, Func<byte[], ServerEnvelope> Decode)> s_clients = new()
    {
        ["proto"] = (ProtoFraming.Encode, frame => ProtoFraming.DecodeServer(frame)),
        ["json"] = (JsonFraming.Encode, frame => JsonFraming.DecodeServer(frame)),
    };

    private static IEnumerable<TestCaseData> NativeClientMessages => Cases(ClientEnvelope.Descriptor);

    private static IEnumerable<TestCaseData> NativeServerMessages => Cases(ServerEnvelope.Descriptor);

    [Test]
    public void NativeFramings_areTheContractsSubprotocolsInOrderOfPreference()
    {
        Assert.That(SyncRoutes.NativeFramings.Select(framing => framing.Subprotocol), Is.EqualTo([SyncEndpoints.ProtoSubprotocol, SyncEndpoints.JsonSubprotocol]));
        Assert.That(SyncRoutes.NativeFramings.Select(framing => framing.MessageType), Is.EqualTo([WebSocketMessageType.Binary, WebSocketMessageType.Text]));
    }

    [TestCaseSource(nameof(NativeClientMessages))]
    public void NativeFraming_clientRequest_decodesThroughTheSeam(IFraming<ClientEnvelope> framing, string message)
    {
        var request = MessageFiller.Envelope<ClientEnvelope>(message, "ref-✓", filled: true);

        Assert.That(framing.DecodeClient(ClientOf(framing).Encode(request)), Is.EqualTo(request));
    }

    [TestCaseSource(nameof(NativeServerMessages))]
    public void NativeFraming_pushAndReply_decodeToTheEnvelope(IFraming<ClientEnvelope> framing, string message)
    {
        var push = MessageFiller.Envelope<ServerEnvelope>(message, "", filled: true);
        var reply = MessageFiller.Envelope<ServerEnvelope>(message, "ref-✓", filled: true);
        var client = ClientOf(framing);

        Assert.That(client.Decode(framing.EncodePush(push)), Is.EqualTo(push));
        Assert.That(client.Decode(framing.EncodeReply(reply, channel: "7")), Is.EqualTo(reply));
    }

    [Test]
    public void PhoenixFraming_clientRequest_decodesThroughTheSeam()
    {
        IFraming<PhoenixClientFrame> framing = PhoenixFraming.Instance;
        var request = new PhoenixClientFrame("1", "42", PhoenixFraming.ChannelTopic, PhoenixClientEvent.Subscribe)
        {
            Envelope = MessageFiller.Envelope<ClientEnvelope>("subscribe", "42", filled: true),
        };

        Assert.That(framing.DecodeClient(PhoenixFraming.Encode(request)), Is.EqualTo(request));
    }

    [TestCase("update_batch")]
    [TestCase("heartbeat")]
    [TestCase("error")]
    public void PhoenixFraming_push_hasNoRefsAndTheJsonFramingsPayload(string message)
    {
        IFraming framing = PhoenixFraming.Instance;
        var push = MessageFiller.Envelope<ServerEnvelope>(message, "", filled: true);

        using var frame = JsonDocument.Parse(framing.EncodePush(push));
        using var json = JsonDocument.Parse(JsonFraming.Encode(push));

        var elements = frame.RootElement.EnumerateArray().ToArray();
        Assert.That(elements[0].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(elements[1].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(elements[2].GetString(), Is.EqualTo(PhoenixFraming.ChannelTopic));
        Assert.That(elements[4].GetRawText(), Is.EqualTo(json.RootElement.EnumerateObject().Single().Value.GetRawText()));
    }

    [Test]
    public void PhoenixFraming_reply_carriesTheChannelAndTheRef()
    {
        IFraming framing = PhoenixFraming.Instance;
        var reply = new ServerEnvelope { Ref = "5", Ack = new Ack() };

        using var frame = JsonDocument.Parse(framing.EncodeReply(reply, channel: "3"));

        Assert.That(frame.RootElement.GetRawText(), Is.EqualTo("""["3","5","sync:v1","phx_reply",{"status":"ok","response":{}}]"""));
    }

    private static IEnumerable<TestCaseData> Cases(Google.Protobuf.Reflection.MessageDescriptor envelope) =>
        from framing in SyncRoutes.NativeFramings
        from message in MessageFiller.MessageNames(envelope)
        select new TestCaseData(framing, message).SetArgDisplayNames(framing.Name, message);

    /// <summary>The client side of a native framing; a framing served without one here fails every case.</summary>
    private static (Func<ClientEnvelope, byte[]> Encode, Func<byte[], ServerEnvelope> Decode) ClientOf(IFraming framing) =>
        s_clients.TryGetValue(framing.Name, out var client)
            ? client
            : throw new AssertionException($"the {framing.Name} framing is served on {SyncEndpoints.WebSocketPath}; give its client side to this test");
}
