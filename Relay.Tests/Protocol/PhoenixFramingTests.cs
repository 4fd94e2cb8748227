using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

[TestFixture]
public sealed class PhoenixFramingTests
{
    [Test]
    public void Decode_subscribe_carriesTheFrameRefInTheEnvelope()
    {
        var frame = PhoenixFraming.Decode("""["1","2","sync:v1","subscribe",{"topics":["t"]}]"""u8);

        Assert.That(frame, Is.EqualTo(new PhoenixClientFrame("1", "2", "sync:v1", PhoenixClientEvent.Subscribe)
        {
            Envelope = new ClientEnvelope { Ref = "2", Subscribe = new Subscribe { Topics = { "t" } } },
        }));
    }

    [Test]
    public void Decode_joinWithOtherParams_keepsOnlyTheToken()
    {
        var frame = PhoenixFraming.Decode("""["4","4","sync:v1","phx_join",{"client":"web","token":"abc","opts":{"a":[1]}}]"""u8);

        Assert.That(frame.Token, Is.EqualTo("abc"));
        Assert.That(frame.Envelope, Is.Null);
    }

    [Test]
    public void Decode_joinWithoutToken_hasNullToken()
    {
        Assert.That(PhoenixFraming.Decode("""["4","4","sync:v1","phx_join",{}]"""u8).Token, Is.Null);
    }

    [Test]
    public void Decode_otherTopic_isReturnedForTheServerToAnswer()
    {
        var frame = PhoenixFraming.Decode("""["3","3","rooms:lobby","phx_join",{}]"""u8);

        Assert.That(frame.Topic, Is.EqualTo("rooms:lobby"));
    }

    [Test]
    public void Encode_updateBatch_isAPushWithNullRefsWhateverTheJoinRef()
    {
        var envelope = new ServerEnvelope { UpdateBatch = new UpdateBatch { Phase = BatchPhase.Live } };

        var frame = Encoding.UTF8.GetString(PhoenixFraming.Encode(envelope, "17"));

        Assert.That(frame, Is.EqualTo("""[null,null,"sync:v1","update_batch",{"phase":"BATCH_PHASE_LIVE"}]"""));
    }

    [Test]
    public void Encode_errorWithRef_isAnErrorReply()
    {
        var envelope = new ServerEnvelope { Ref = "9", Error = new Error { Code = ErrorCode.UnknownTopic, Topic = "x.y" } };

        var frame = Encoding.UTF8.GetString(PhoenixFraming.Encode(envelope, "1"));

        Assert.That(frame, Is.EqualTo("""["1","9","sync:v1","phx_reply",{"status":"error","response":{"code":"UNKNOWN_TOPIC","topic":"x.y"}}]"""));
    }

    [Test]
    public void Encode_requestWithoutMatchingEnvelope_throwsArgumentException()
    {
        var frame = new PhoenixClientFrame("1", "2", PhoenixFraming.ChannelTopic, PhoenixClientEvent.Subscribe)
        {
            Envelope = new ClientEnvelope { Ping = new Ping() },
        };

        Assert.That(() => PhoenixFraming.Encode(frame), Throws.ArgumentException);
    }
}
