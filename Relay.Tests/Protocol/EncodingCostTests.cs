using System.Buffers;
using Google.Protobuf;
using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>
/// The server encodes each batch once per framing and shares the bytes, so encoding must not allocate per
/// update. Allocation counts are exact, unlike timings (those belong in Relay.Bench).
/// </summary>
[TestFixture]
public sealed class EncodingCostTests
{
    private static readonly ByteString _payload = ByteString.CopyFromUtf8("{\"steps\": 3, \"status\": \"running\"}");

    [TestCase("proto")]
    [TestCase("json")]
    [TestCase("phoenix")]
    public void Encode_fullBatch_allocatesNoMoreThanASingleUpdateBatch(string framing)
    {
        var output = new ArrayBufferWriter<byte>(1 << 20);
        Action<ServerEnvelope> encode = framing switch
        {
            "proto" => envelope => ProtoFraming.Encode(envelope, output),
            "json" => envelope => JsonFraming.Encode(envelope, output),
            _ => envelope => PhoenixFraming.Encode(envelope, null, output),
        };

        var one = AllocatedBytes(encode, Batch(1), output);
        var full = AllocatedBytes(encode, Batch(ProtocolLimits.MaxUpdatesPerBatch), output);

        Assert.That(full, Is.LessThanOrEqualTo(one));
    }

    private static long AllocatedBytes(Action<ServerEnvelope> encode, ServerEnvelope envelope, ArrayBufferWriter<byte> output)
    {
        encode(envelope);
        output.ResetWrittenCount();
        var before = GC.GetAllocatedBytesForCurrentThread();
        encode(envelope);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.ResetWrittenCount();
        return allocated;
    }

    private static ServerEnvelope Batch(int updates)
    {
        var batch = new UpdateBatch { Phase = BatchPhase.Live, Watermarks = { [Topics.RunSummaries] = updates } };
        for (var i = 1; i <= updates; i++)
        {
            batch.Updates.Add(new Update
            {
                Topic = Topics.RunSummaries,
                DocKey = $"run_{i}",
                DocVersion = i,
                Payload = _payload,
                Watermark = i,
                PayloadHash = ByteString.CopyFrom(new byte[32]),
            });
        }

        return new ServerEnvelope { UpdateBatch = batch };
    }
}
