using Google.Protobuf.Reflection;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests.Protocol;

/// <summary>Names that CONTRACT.md fixes.</summary>
[TestFixture]
public sealed class ContractNamesTests
{
    [Test]
    public void ErrorCode_wireNames_includeTheContractCodes()
    {
        var names = ErrorReflection.Descriptor.FindTypeByName<EnumDescriptor>("ErrorCode")
            .Values.Select(value => value.Name);

        Assert.That(names, Is.SupersetOf(new[]
        {
            "STALE_CURSOR", "PAYLOAD_TOO_LARGE", "UNAUTHORIZED", "FORBIDDEN_TOPIC", "UNKNOWN_TOPIC",
            "BAD_REQUEST", "SLOW_CONSUMER", "UNAVAILABLE", "INTERNAL",
        }));
    }

    [Test]
    public void TopicEnum_topicNameOptions_matchTheTopicConstants()
    {
        var names = TopicReflection.Descriptor.FindTypeByName<EnumDescriptor>("Topic")
            .Values.Where(value => value.Number != 0)
            .Select(value => value.GetOptions().GetExtension(TopicExtensions.TopicName));

        Assert.That(names, Is.EqualTo(Topics.V1));
        Assert.That(Topics.V1, Is.EqualTo(new[] { "runtime.run_summaries", "runtime.codex_worker_summaries", "runtime.notifications" }));
    }

    [Test]
    public void SyncEndpoints_matchTheContract()
    {
        Assert.That(SyncEndpoints.WebSocketPath, Is.EqualTo("/sync/v1/ws"));
        Assert.That(SyncEndpoints.ProtoSubprotocol, Is.EqualTo("openagents.sync.v1.proto"));
        Assert.That(SyncEndpoints.JsonSubprotocol, Is.EqualTo("openagents.sync.v1.json"));
        Assert.That(SyncEndpoints.PhoenixPath, Is.EqualTo("/socket/websocket"));
    }
}
