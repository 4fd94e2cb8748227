using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>Malformed input is refused with a <see cref="ProtocolException"/> of the right kind, never anything else.</summary>
[TestFixture]
public sealed class MalformedInputTests
{
    [TestCase("0a 05 31", ProtocolErrorKind.InvalidProtobuf, TestName = "Binary_truncatedString_isInvalidProtobuf")]
    [TestCase("12 80", ProtocolErrorKind.InvalidProtobuf, TestName = "Binary_truncatedLength_isInvalidProtobuf")]
    [TestCase("0f", ProtocolErrorKind.InvalidProtobuf, TestName = "Binary_invalidWireType_isInvalidProtobuf")]
    [TestCase("0a 02 ff fe 2a 00", ProtocolErrorKind.InvalidUtf8, TestName = "Binary_invalidUtf8String_isInvalidUtf8")]
    [TestCase("0a 01 31 78 01", ProtocolErrorKind.UnknownMessage, TestName = "Binary_unknownOneofCase_isUnknownMessage")]
    [TestCase("", ProtocolErrorKind.UnknownMessage, TestName = "Binary_emptyFrame_isUnknownMessage")]
    public void BinaryClientFrame_malformed_throwsTypedError(string hex, ProtocolErrorKind kind)
    {
        var error = Catch(() => ProtoFraming.DecodeClient(GoldenFrames.ParseHex(hex)));

        Assert.That(error.Kind, Is.EqualTo(kind));
    }

    [Test]
    public void BinaryFrame_unknownOneofCase_namesTheRef()
    {
        Assert.That(Catch(() => ProtoFraming.DecodeClient(GoldenFrames.ParseHex("0a 01 31 78 01"))).Ref, Is.EqualTo("1"));
        Assert.That(Catch(() => ProtoFraming.DecodeServer(GoldenFrames.ParseHex("0a 01 31 78 01"))).Ref, Is.EqualTo("1"));
    }

    [TestCase("""{"ref":"1","fooBar":{}}""", ProtocolErrorKind.UnknownMessage, "1")]
    [TestCase("""{"ref":"1","subscribe":null}""", ProtocolErrorKind.UnknownMessage, "1")]
    [TestCase("""{}""", ProtocolErrorKind.UnknownMessage, null)]
    [TestCase("""{"ref":"1","ping":{},"subscribe":{}}""", ProtocolErrorKind.MultipleMessages, "1")]
    [TestCase("""{"ref":"1","subscribe":{"topics":"runtime.notifications"}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","subscribe":{"topics":[1]}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","subscribe":{"resumeAfter":[]}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","subscribe":{"resumeAfter":{"t":"abc"}}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","subscribe":{"resumeAfter":{"t":1.5}}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","subscribe":[]}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":"1","refreshAuth":{"token":true}}""", ProtocolErrorKind.UnexpectedType, "1")]
    [TestCase("""{"ref":7,"ping":{}}""", ProtocolErrorKind.UnexpectedType, null)]
    [TestCase("""{"ref":"1","ping":""", ProtocolErrorKind.InvalidJson, "1")]
    [TestCase("""{"ref":"1","ping":{}} {}""", ProtocolErrorKind.InvalidJson, "1")]
    [TestCase("""{"ref":"1",}""", ProtocolErrorKind.InvalidJson, "1")]
    [TestCase("""{"ref":"\ud800","ping":{}}""", ProtocolErrorKind.InvalidJson, null)]
    [TestCase("", ProtocolErrorKind.InvalidJson, null)]
    [TestCase("""[{"ping":{}}]""", ProtocolErrorKind.InvalidFrame, null)]
    [TestCase("42", ProtocolErrorKind.InvalidFrame, null)]
    public void JsonClientFrame_malformed_throwsTypedError(string text, ProtocolErrorKind kind, string? @ref)
    {
        var error = Catch(() => JsonFraming.DecodeClient(Encoding.UTF8.GetBytes(text)));

        Assert.That(error.Kind, Is.EqualTo(kind));
        Assert.That(error.Ref, Is.EqualTo(@ref));
    }

    [TestCase("""{"updateBatch":{"updates":[5]}}""")]
    [TestCase("""{"updateBatch":{"updates":{}}}""")]
    [TestCase("""{"updateBatch":{"updates":[{"payloadHash":"not base64!"}]}}""")]
    [TestCase("""{"updateBatch":{"updates":[{"docVersion":"12x"}]}}""")]
    [TestCase("""{"updateBatch":{"updates":[{"tombstone":"yes"}]}}""")]
    [TestCase("""{"updateBatch":{"phase":{}}}""")]
    [TestCase("""{"error":{"code":[]}}""")]
    [TestCase("""{"error":{"retryAfterMs":-1}}""")]
    [TestCase("""{"error":{"retryAfterMs":4294967296}}""")]
    [TestCase("""{"heartbeat":{"watermarks":{"t":null,"u":true}}}""")]
    public void JsonServerFrame_wrongTypes_throwUnexpectedType(string text)
    {
        Assert.That(Catch(() => JsonFraming.DecodeServer(Encoding.UTF8.GetBytes(text))).Kind, Is.EqualTo(ProtocolErrorKind.UnexpectedType));
    }

    [Test]
    public void JsonFrame_invalidUtf8_throwsInvalidUtf8()
    {
        byte[] frame = [.. "{\"ref\":\""u8, 0xC3, 0x28, .. "\",\"ping\":{}}"u8];

        Assert.That(Catch(() => JsonFraming.DecodeClient(frame)).Kind, Is.EqualTo(ProtocolErrorKind.InvalidUtf8));
        Assert.That(Catch(() => JsonFraming.DecodeServer(frame)).Kind, Is.EqualTo(ProtocolErrorKind.InvalidUtf8));
        Assert.That(Catch(() => PhoenixFraming.Decode(frame)).Kind, Is.EqualTo(ProtocolErrorKind.InvalidUtf8));
    }

    [TestCase("""{"topic":"sync:v1"}""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""["1","2","sync:v1","subscribe"]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""["1","2","sync:v1","subscribe",{},{}]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""[]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""[1,"2","sync:v1","subscribe",{}]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""["1",2,"sync:v1","subscribe",{}]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""["1","2",null,"subscribe",{}]""", ProtocolErrorKind.InvalidFrame)]
    [TestCase("""["1","2","sync:v1","subscribe",{}""", ProtocolErrorKind.InvalidJson)]
    [TestCase("""["1","2","sync:v1","subscribe","topics"]""", ProtocolErrorKind.NonObjectPayload)]
    [TestCase("""["1","2","sync:v1","subscribe",null]""", ProtocolErrorKind.NonObjectPayload)]
    [TestCase("""["1","2","sync:v1","subscribe",[]]""", ProtocolErrorKind.NonObjectPayload)]
    [TestCase("""["1","2","sync:v1","publish",{}]""", ProtocolErrorKind.UnknownEvent)]
    [TestCase("""["1","2","sync:v1","subscribe",{"topics":{}}]""", ProtocolErrorKind.UnexpectedType)]
    [TestCase("""["1","2","sync:v1","phx_join",{"token":5}]""", ProtocolErrorKind.UnexpectedType)]
    public void PhoenixFrame_malformed_throwsTypedError(string text, ProtocolErrorKind kind)
    {
        Assert.That(Catch(() => PhoenixFraming.Decode(Encoding.UTF8.GetBytes(text))).Kind, Is.EqualTo(kind));
    }

    [Test]
    public void PhoenixFrame_requestLevelError_keepsRefsForTheReply()
    {
        var error = Catch(() => PhoenixFraming.Decode("""["1","2","sync:v1","publish",{}]"""u8.ToArray()));

        Assert.That((error.JoinRef, error.Ref, error.Topic), Is.EqualTo(("1", "2", "sync:v1")));
        Assert.That(error.IsFatal, Is.False);
        Assert.That(error.ToEnvelope(), Is.EqualTo(new ServerEnvelope
        {
            Ref = "2",
            Error = new Error { Code = ErrorCode.BadRequest, Message = error.Message },
        }));
    }

    [TestCase(ProtocolErrorKind.InvalidUtf8, true)]
    [TestCase(ProtocolErrorKind.InvalidProtobuf, true)]
    [TestCase(ProtocolErrorKind.InvalidJson, true)]
    [TestCase(ProtocolErrorKind.InvalidFrame, true)]
    [TestCase(ProtocolErrorKind.UnexpectedType, false)]
    [TestCase(ProtocolErrorKind.UnknownMessage, false)]
    [TestCase(ProtocolErrorKind.MultipleMessages, false)]
    [TestCase(ProtocolErrorKind.NonObjectPayload, false)]
    [TestCase(ProtocolErrorKind.UnknownEvent, false)]
    public void ProtocolException_kind_decidesWhetherFatal(ProtocolErrorKind kind, bool fatal)
    {
        Assert.That(new ProtocolException(kind, "m").IsFatal, Is.EqualTo(fatal));
    }

    /// <summary>Every prefix and many single-byte corruptions of every golden frame: decoded or refused, never a crash.</summary>
    [Test]
    public void GoldenFrames_truncatedOrCorrupted_decodeOrThrowOnlyProtocolException()
    {
        var random = new Random(20260101);
        foreach (var file in GoldenFrames.AllFiles())
        {
            var frame = file.EndsWith(".bin.hex", StringComparison.Ordinal)
                ? GoldenFrames.ParseHex(GoldenFrames.Text(file))
                : GoldenFrames.Frame(file);
            var decoders = DecodersFor(file);
            for (var length = 0; length < frame.Length; length++)
            {
                AssertDecodesOrRefuses(decoders, frame[..length], file);
            }

            for (var i = 0; i < 200; i++)
            {
                var corrupted = (byte[])frame.Clone();
                corrupted[random.Next(corrupted.Length)] = (byte)random.Next(256);
                AssertDecodesOrRefuses(decoders, corrupted, file);
            }
        }
    }

    private static Action<byte[]>[] DecodersFor(string file) => file switch
    {
        _ when file.EndsWith(".phoenix.json", StringComparison.Ordinal) => [f => PhoenixFraming.Decode(f)],
        _ when file.EndsWith(".json", StringComparison.Ordinal) => [f => JsonFraming.DecodeClient(f), f => JsonFraming.DecodeServer(f)],
        _ => [f => ProtoFraming.DecodeClient(f), f => ProtoFraming.DecodeServer(f)],
    };

    private static void AssertDecodesOrRefuses(Action<byte[]>[] decoders, byte[] frame, string file)
    {
        foreach (var decode in decoders)
        {
            try
            {
                decode(frame);
            }
            catch (ProtocolException)
            {
                // Refused with the typed error: what malformed input must get.
            }
            catch (Exception e)
            {
                Assert.Fail($"{file} ({GoldenFrames.Hex(frame).Trim()}): {e}");
            }
        }
    }

    private static ProtocolException Catch(Func<object> decode)
    {
        try
        {
            decode();
        }
        catch (ProtocolException e)
        {
            return e;
        }

        throw new AssertionException("Expected a ProtocolException.");
    }
}
