using System.Text;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;

namespace Relay.Bench.Micro;

/// <summary>A full batch as the relay sends it: 200 updates of ~1 KB run summaries.</summary>
internal static class Batches
{
    public static EventBatch RunSummaries(int count = 200)
    {
        var events = Enumerable.Range(1, count).Select(i => new JournalEvent(
            "runtime.run_summaries", i, $"run-{i}", i, "org-1", Encoding.UTF8.GetBytes(E2E.Documents.RunSummary(i, i)),
            new byte[32], false, DateTimeOffset.UtcNow)).ToArray();
        return new EventBatch("runtime.run_summaries", events, count, Live: true, CaughtUp: true);
    }
}
