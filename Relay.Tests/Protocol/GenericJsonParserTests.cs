using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests.Protocol;

/// <summary>
/// WS_MAPPING §3.2's promise: a generic proto3 JSON parser (Google.Protobuf's <see cref="JsonParser"/>) reads every JSON
/// frame the relay writes once <c>payload</c> is taken out of each update, and reads the same envelope the relay meant,
/// for int64 values up to 2^53 − 1 (above it a generic parser reads JSON numbers as doubles, as JavaScript does).
/// </summary>
public sealed class GenericJsonParserTests
{
    /// <summary>2^53: JSON numbers below it are exact in every reader.</summary>
    private const long JsonSafeLimit = 1L << 53;

    private static readonly JsonParser s_parser = new(JsonParser.Settings.Default);

    private static IEnumerable<TestCaseData> ServerMessages =>
        ServerEnvelope.Descriptor.Oneofs.Single().Fields.SelectMany(message => new[] { true, false }.Select(filled => new TestCaseData(message.Name, filled)));

    private static IEnumerable<string> GoldenServerFrames => GoldenFrames.EnvelopeExamples("server");

    [TestCaseSource(nameof(ServerMessages))]
    public void GenericParser_everyServerMessage_readsTheRelaysFrameWithoutPayloads(string message, bool filled)
    {
        var envelope = new ServerEnvelope { Ref = filled ? "ref-✓" : "" };
        var field = ServerEnvelope.Descriptor.FindFieldByName(message);
        field.Accessor.SetValue(envelope, filled ? MessageFiller.Filled(field.MessageType) : MessageFiller.New(field.MessageType));
        SafeIntegers(envelope);

        var parsed = s_parser.Parse<ServerEnvelope>(WithoutPayloads(JsonFraming.Encode(envelope)));

        Assert.That(parsed, Is.EqualTo(WithoutPayloads(envelope)));
    }

    [TestCaseSource(nameof(GoldenServerFrames))]
    public void GenericParser_goldenServerFrame_readsWhatTheRelayReads(string name)
    {
        var frame = GoldenFrames.Frame($"server/{name}.json");

        var parsed = s_parser.Parse<ServerEnvelope>(WithoutPayloads(frame));

        Assert.That(parsed, Is.EqualTo(WithoutPayloads(JsonFraming.DecodeServer(frame))));
    }

    [Test]
    public void GenericParser_frameStillHoldingAPayload_refusesIt()
    {
        var envelope = new ServerEnvelope { UpdateBatch = new UpdateBatch { Updates = { new Update { DocKey = "d", Payload = MessageFiller.Payload } } } };

        Assert.That(() => s_parser.Parse<ServerEnvelope>(Encoding.UTF8.GetString(JsonFraming.Encode(envelope))), Throws.InstanceOf<InvalidProtocolBufferException>());
    }

    /// <summary>Brings every int64 of <paramref name="message"/> under 2^53, where JSON numbers are exact in any reader.</summary>
    private static void SafeIntegers(IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (field.IsMap && value is System.Collections.IDictionary map && field.MessageType.FindFieldByNumber(2).FieldType == FieldType.Int64)
            {
                foreach (var key in map.Keys.Cast<object>().ToList())
                {
                    map[key] = (long)map[key]! % JsonSafeLimit;
                }
            }
            else if (!field.IsRepeated && field.FieldType == FieldType.Int64)
            {
                field.Accessor.SetValue(message, (long)value % JsonSafeLimit);
            }
            else if (!field.IsMap && field.IsRepeated && field.FieldType == FieldType.Message)
            {
                foreach (var item in ((System.Collections.IList)value).OfType<IMessage>())
                {
                    SafeIntegers(item);
                }
            }
            else if (!field.IsRepeated && field.FieldType == FieldType.Message && value is IMessage nested)
            {
                SafeIntegers(nested);
            }
        }
    }

    /// <summary>The frame's text with <c>payload</c> removed from every update.</summary>
    private static string WithoutPayloads(byte[] frame)
    {
        var root = JsonNode.Parse(frame)!.AsObject();
        if (root["updateBatch"]?["updates"] is JsonArray updates)
        {
            foreach (var update in updates.OfType<JsonObject>())
            {
                update.Remove("payload");
            }
        }
        return root.ToJsonString();
    }

    private static ServerEnvelope WithoutPayloads(ServerEnvelope envelope)
    {
        var copy = envelope.Clone();
        foreach (var update in copy.UpdateBatch?.Updates ?? [])
        {
            update.Payload = ByteString.Empty;
        }
        return copy;
    }
}
