using System.Text;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;

namespace Relay.Bench.Micro;

/// <summary>A live batch as the relay sends it: by default 200 updates of ~1 KB run summaries.</summary>
internal static class Batches
{
    public static EventBatch RunSummaries(int count = 200, string topic = "runtime.run_summaries", long after = 0)
    {
        var events = Enumerable.Range(1, count).Select(i => new JournalEvent(
            topic, after + i, $"run-{i}", after + i, "org-1", Encoding.UTF8.GetBytes(E2E.Documents.RunSummary(i, (int)after)),
            new byte[32], false, DateTimeOffset.UtcNow)).ToArray();
        return new EventBatch(topic, events, after + count, SubscriptionPhase.Live);
    }
}
