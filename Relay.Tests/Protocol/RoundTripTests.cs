using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

[TestFixture]
public sealed class RoundTripTests
{
    private static IEnumerable<string> ClientMessages => MessageFiller.MessageNames(ClientEnvelope.Descriptor);

    private static IEnumerable<string> ServerMessages => MessageFiller.MessageNames(ServerEnvelope.Descriptor);

    [TestCaseSource(nameof(ClientMessages))]
    public void ClientEnvelope_allFieldsSet_roundTripsThroughBinaryAndJson(string message)
    {
        var envelope = MessageFiller.Envelope<ClientEnvelope>(message, "ref-✓", filled: true);

        Assert.That(ProtoFraming.DecodeClient(ProtoFraming.Encode(envelope)), Is.EqualTo(envelope));
        Assert.That(JsonFraming.DecodeClient(JsonFraming.Encode(envelope)), Is.EqualTo(envelope));
    }

    [TestCaseSource(nameof(ClientMessages))]
    public void ClientEnvelope_defaults_roundTripsThroughBinaryAndJson(string message)
    {
        var envelope = MessageFiller.Envelope<ClientEnvelope>(message, "", filled: false);

        Assert.That(ProtoFraming.DecodeClient(ProtoFraming.Encode(envelope)), Is.EqualTo(envelope));
        Assert.That(JsonFraming.DecodeClient(JsonFraming.Encode(envelope)), Is.EqualTo(envelope));
    }

    [TestCaseSource(nameof(ServerMessages))]
    public void ServerEnvelope_allFieldsSet_roundTripsThroughBinaryAndJson(string message)
    {
        var envelope = MessageFiller.Envelope<ServerEnvelope>(message, "ref-✓", filled: true);

        Assert.That(ProtoFraming.DecodeServer(ProtoFraming.Encode(envelope)), Is.EqualTo(envelope));
        Assert.That(JsonFraming.DecodeServer(JsonFraming.Encode(envelope)), Is.EqualTo(envelope));
    }

    [TestCaseSource(nameof(ServerMessages))]
    public void ServerEnvelope_defaults_roundTripsThroughBinaryAndJson(string message)
    {
        var envelope = MessageFiller.Envelope<ServerEnvelope>(message, "", filled: false);

        Assert.That(ProtoFraming.DecodeServer(ProtoFraming.Encode(envelope)), Is.EqualTo(envelope));
        Assert.That(JsonFraming.DecodeServer(JsonFraming.Encode(envelope)), Is.EqualTo(envelope));
    }

    [TestCase(PhoenixClientEvent.Subscribe, "subscribe", true)]
    [TestCase(PhoenixClientEvent.Subscribe, "subscribe", false)]
    [TestCase(PhoenixClientEvent.Unsubscribe, "unsubscribe", true)]
    [TestCase(PhoenixClientEvent.Unsubscribe, "unsubscribe", false)]
    [TestCase(PhoenixClientEvent.RefreshAuth, "refresh_auth", true)]
    [TestCase(PhoenixClientEvent.RefreshAuth, "refresh_auth", false)]
    public void PhoenixClientFrame_request_roundTrips(PhoenixClientEvent clientEvent, string message, bool filled)
    {
        var frame = new PhoenixClientFrame("1", "42", PhoenixFraming.ChannelTopic, clientEvent)
        {
            Envelope = MessageFiller.Envelope<ClientEnvelope>(message, "42", filled),
        };

        Assert.That(PhoenixFraming.Decode(PhoenixFraming.Encode(frame)), Is.EqualTo(frame));
    }

    [TestCase(PhoenixClientEvent.Join, "1", "1", "sync:v1", "token-✓")]
    [TestCase(PhoenixClientEvent.Join, "1", "1", "sync:v1", null)]
    [TestCase(PhoenixClientEvent.Leave, "1", "7", "sync:v1", null)]
    [TestCase(PhoenixClientEvent.Heartbeat, null, "8", "phoenix", null)]
    public void PhoenixClientFrame_control_roundTrips(PhoenixClientEvent clientEvent, string? joinRef, string @ref, string topic, string? token)
    {
        var frame = new PhoenixClientFrame(joinRef, @ref, topic, clientEvent) { Token = token };

        Assert.That(PhoenixFraming.Decode(PhoenixFraming.Encode(frame)), Is.EqualTo(frame));
    }

    [TestCase(long.MinValue)]
    [TestCase(-1L)]
    [TestCase(long.MaxValue)]
    public void JsonFraming_extremeInt64_roundTripsExactly(long value)
    {
        var envelope = new ClientEnvelope { Subscribe = new Subscribe { ResumeAfter = { ["t"] = value } } };

        Assert.That(JsonFraming.DecodeClient(JsonFraming.Encode(envelope)), Is.EqualTo(envelope));
    }

    [Test]
    public void JsonFraming_int64AsStringAndProtoFieldNames_areAccepted()
    {
        var envelope = JsonFraming.DecodeClient("""{"ref":"1","subscribe":{"topics":["t"],"resume_after":{"t":"9007199254740993"}}}"""u8);

        Assert.That(envelope.Subscribe.ResumeAfter["t"], Is.EqualTo(9_007_199_254_740_993));
    }

    [Test]
    public void JsonFraming_unknownFields_areIgnored()
    {
        var envelope = JsonFraming.DecodeClient("""{"ref":"1","future":{"a":[1,{}]},"ping":{"later":true}}"""u8);

        Assert.That(envelope, Is.EqualTo(new ClientEnvelope { Ref = "1", Ping = new Ping() }));
    }

    [Test]
    public void JsonFraming_unknownEnumName_readsAsUnspecified()
    {
        var envelope = JsonFraming.DecodeServer("""{"error":{"code":"SOME_FUTURE_CODE","message":"m"}}"""u8);

        Assert.That(envelope.Error.Code, Is.EqualTo(ErrorCode.Unspecified));
    }

    [Test]
    public void JsonFraming_payload_isWrittenInlineVerbatim()
    {
        var update = new Update { DocKey = "d", Payload = MessageFiller.Payload };
        var envelope = new ServerEnvelope { UpdateBatch = new UpdateBatch { Updates = { update } } };

        var text = System.Text.Encoding.UTF8.GetString(JsonFraming.Encode(envelope));

        Assert.That(text, Does.Contain("\"payload\":" + MessageFiller.Payload.ToStringUtf8() + "}"));
    }

    [Test]
    public void Encoders_envelopeWithoutMessage_throwArgumentException()
    {
        Assert.That(() => ProtoFraming.Encode(new ServerEnvelope()), Throws.ArgumentException);
        Assert.That(() => ProtoFraming.Encode(new ClientEnvelope()), Throws.ArgumentException);
        Assert.That(() => JsonFraming.Encode(new ServerEnvelope()), Throws.ArgumentException);
        Assert.That(() => JsonFraming.Encode(new ClientEnvelope()), Throws.ArgumentException);
        Assert.That(() => PhoenixFraming.Encode(new ServerEnvelope(), "1"), Throws.ArgumentException);
    }

}
