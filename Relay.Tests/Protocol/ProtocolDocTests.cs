using System.Text.RegularExpressions;
using Google.Protobuf.Reflection;
using OpenAgents.Sync.V1;
using Relay.Core.Subscriptions;
using Relay.Host.Sync;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>
/// docs/protocol/WS_MAPPING.md shows the golden frames verbatim: each example is a fenced block right after a
/// <c>&lt;!-- golden: PATH --&gt;</c> marker, PATH relative to fixtures/protocol. The doc cannot drift from the
/// fixtures, and the fixtures cannot drift from the codec (<see cref="GoldenFrameTests"/>).
/// </summary>
[TestFixture]
public sealed partial class ProtocolDocTests
{
    private static string Doc => File.ReadAllText(Path.Combine(Repository.Root(), "docs", "protocol", "WS_MAPPING.md"));

    [Test]
    public void WsMapping_exampleBlocks_equalTheGoldenFiles()
    {
        var examples = Examples().ToList();

        Assert.That(examples, Is.Not.Empty);
        foreach (var (file, block) in examples)
        {
            Assert.That(block, Is.EqualTo(GoldenFrames.Text(file)), $"the block after <!-- golden: {file} -->");
        }
    }

    [Test]
    public void WsMapping_everyGoldenFile_isShown()
    {
        Assert.That(Examples().Select(example => example.File).Distinct(), Is.EquivalentTo(GoldenFrames.AllFiles()));
    }

    [Test]
    public void WsMapping_errorExamples_sayWhatTheRelaySays()
    {
        var stale = new StaleCursorException("runtime.notifications", 0, 5000, 5210);

        Assert.Multiple(() =>
        {
            Assert.That(Example("server/error-unavailable.json").Error, Is.EqualTo(Errors.Restarting().Error));
            Assert.That(Example("server/error-forbidden-topic.json").Error, Is.EqualTo(Errors.NotCovered("runtime.codex_worker_summaries").Error));
            Assert.That(Example("server/error-stale-cursor.json").Error, Is.EqualTo(Errors.Create(ErrorCode.StaleCursor, stale.Message, stale.Topic).Error));
        });
    }

    [Test]
    public void WsMapping_everyErrorCode_isDocumented()
    {
        var codes = ErrorReflection.Descriptor.FindTypeByName<EnumDescriptor>("ErrorCode").Values
            .Where(value => value.Number != 0)
            .Select(value => value.Name);

        var doc = Doc;

        Assert.That(codes.Where(code => !doc.Contains($"| `{code}` |", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void WsMapping_everyPhoenixEvent_isDocumented()
    {
        var doc = Doc;
        var events = typeof(PhoenixEvents).GetFields().Select(field => (string)field.GetRawConstantValue()!);

        Assert.That(events.Where(name => !doc.Contains($"`{name}`", StringComparison.Ordinal)), Is.Empty);
    }

    private static ServerEnvelope Example(string file) => JsonFraming.DecodeServer(GoldenFrames.Frame(file));

    private static IEnumerable<(string File, string Block)> Examples() =>
        GoldenBlock().Matches(Doc).Select(match => (match.Groups["file"].Value, match.Groups["block"].Value));

    [GeneratedRegex(@"<!-- golden: (?<file>\S+) -->\n```[a-z]*\n(?<block>.*?)```", RegexOptions.Singleline)]
    private static partial Regex GoldenBlock();
}
