using System.Buffers;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>
/// Each golden frame decodes, re-encodes byte for byte, and agrees with the same example's other framings.
/// docs/protocol/WS_MAPPING.md shows these files verbatim, which ProtocolDocTests checks.
/// </summary>
[TestFixture]
public sealed class GoldenFrameTests
{
    /// <summary>Phoenix-only client frames: they carry no envelope.</summary>
    private static readonly string[] _phoenixClientControls = ["join", "heartbeat", "leave"];

    private static IEnumerable<string> ClientExamples => GoldenFrames.EnvelopeExamples("client");

    private static IEnumerable<string> ServerExamples => GoldenFrames.EnvelopeExamples("server");

    private static IEnumerable<string> PhoenixClientControls => _phoenixClientControls;

    [TestCaseSource(nameof(ClientExamples))]
    public void ClientExample_decodedAndReencoded_matchesEveryFraming(string name)
    {
        var json = GoldenFrames.Frame($"client/{name}.json");
        var hex = GoldenFrames.Text($"client/{name}.bin.hex");

        var envelope = JsonFraming.DecodeClient(json);

        Assert.That(JsonFraming.Encode(envelope), Is.EqualTo(json));
        Assert.That(GoldenFrames.Hex(ProtoFraming.Encode(envelope)), Is.EqualTo(hex));
        Assert.That(ProtoFraming.DecodeClient(GoldenFrames.ParseHex(hex)), Is.EqualTo(envelope));
        if (GoldenFrames.Exists($"client/{name}.phoenix.json"))
        {
            var phoenix = GoldenFrames.Frame($"client/{name}.phoenix.json");
            var frame = PhoenixFraming.Decode(phoenix);
            Assert.That(frame.Envelope, Is.EqualTo(envelope));
            Assert.That(PhoenixFraming.Encode(frame), Is.EqualTo(phoenix));
        }
    }

    [TestCaseSource(nameof(ServerExamples))]
    public void ServerExample_decodedAndReencoded_matchesEveryFraming(string name)
    {
        var json = GoldenFrames.Frame($"server/{name}.json");
        var hex = GoldenFrames.Text($"server/{name}.bin.hex");
        var phoenix = GoldenFrames.Frame($"server/{name}.phoenix.json");

        var envelope = JsonFraming.DecodeServer(json);

        Assert.That(JsonFraming.Encode(envelope), Is.EqualTo(json));
        Assert.That(GoldenFrames.Hex(ProtoFraming.Encode(envelope)), Is.EqualTo(hex));
        Assert.That(ProtoFraming.DecodeServer(GoldenFrames.ParseHex(hex)), Is.EqualTo(envelope));
        Assert.That(PhoenixFraming.Encode(envelope, JoinRefOf(phoenix)), Is.EqualTo(phoenix));
    }

    [TestCaseSource(nameof(PhoenixClientControls))]
    public void PhoenixClientControl_decodedAndReencoded_isUnchanged(string name)
    {
        var phoenix = GoldenFrames.Frame($"client/{name}.phoenix.json");

        var frame = PhoenixFraming.Decode(phoenix);

        Assert.That(frame.Envelope, Is.Null);
        Assert.That(PhoenixFraming.Encode(frame), Is.EqualTo(phoenix));
    }

    [Test]
    public void PhoenixHeartbeatReply_toGoldenHeartbeat_matchesGoldenFrame()
    {
        var heartbeat = PhoenixFraming.Decode(GoldenFrames.Frame("client/heartbeat.phoenix.json"));

        Assert.That(Write(output => PhoenixFraming.EncodeHeartbeatReply(heartbeat, output)),
            Is.EqualTo(GoldenFrames.Frame("server/heartbeat-reply.phoenix.json")));
    }

    [Test]
    public void PhoenixJoinReply_ackToJoin_matchesGoldenFrame()
    {
        var join = PhoenixFraming.Decode(GoldenFrames.Frame("client/join.phoenix.json"));

        Assert.That(PhoenixFraming.Encode(new ServerEnvelope { Ref = join.Ref, Ack = new Ack() }, join.JoinRef),
            Is.EqualTo(GoldenFrames.Frame("server/join-reply.phoenix.json")));
    }

    [Test]
    public void PhoenixUnmatchedTopicReply_joinOfOtherTopic_matchesGoldenFrame()
    {
        var join = new PhoenixClientFrame("3", "3", "sync:v2", PhoenixClientEvent.Join);

        Assert.That(Write(output => PhoenixFraming.EncodeUnmatchedTopicReply(join, output)),
            Is.EqualTo(GoldenFrames.Frame("server/unmatched-topic.phoenix.json")));
    }

    [Test]
    public void Fixtures_everyFile_isCheckedHere()
    {
        var envelopeFiles = ClientExamples.SelectMany(name => Framings("client", name))
            .Concat(ServerExamples.SelectMany(name => Framings("server", name)));
        string[] phoenixOnly =
        [
            .. _phoenixClientControls.Select(name => $"client/{name}.phoenix.json"),
            "server/heartbeat-reply.phoenix.json",
            "server/join-reply.phoenix.json",
            "server/unmatched-topic.phoenix.json",
        ];
        var checkedFiles = envelopeFiles.Concat(phoenixOnly).Where(GoldenFrames.Exists);

        Assert.That(GoldenFrames.AllFiles(), Is.EquivalentTo(checkedFiles));
    }

    private static IEnumerable<string> Framings(string direction, string name) =>
        [$"{direction}/{name}.json", $"{direction}/{name}.bin.hex", $"{direction}/{name}.phoenix.json"];

    private static string? JoinRefOf(byte[] phoenixFrame)
    {
        using var document = JsonDocument.Parse(phoenixFrame);
        return document.RootElement[0].GetString();
    }

    private static byte[] Write(Action<IBufferWriter<byte>> encode)
    {
        var output = new ArrayBufferWriter<byte>();
        encode(output);
        return output.WrittenSpan.ToArray();
    }
}
