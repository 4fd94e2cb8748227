using Relay.Core.Journal;
using Relay.Core.Subscriptions;

namespace Relay.Tests.Feeds;

public sealed class SubscriptionSourceTests
{
    [Test]
    public async Task Open_atAResumePointThisRelaysLogHolds_needsNoDatabaseRoundTrip()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await CoreHarness.StartAsync();
        // Published while the relay runs: the events reach its ring.
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 5) i", topic);
        await relay.WaitForDatabaseHeadAsync(topic);

        // Any read of a topic's row now waits for this lock: a reconnect storm at the head must not need one.
        await using (await BlockedReads.LockAsync("relay.topics", "relay.topics"))
        {
            var atHead = await relay.SubscribeAsync(topic, 5).WaitAsync(TimeSpan.FromSeconds(10));
            var inRing = await relay.SubscribeAsync(topic, 2).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.That((atHead.HeadAtOpen, atHead.Epoch, inRing.HeadAtOpen), Is.EqualTo((5L, relay.Logs.Find(topic)!.Epoch, 5L)));
        }
    }

    [Test]
    public async Task CatchUpReads_ofOneRangeAtOnce_shareOneRead_evenWhenTheReaderThatStartedItGivesUp()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 3) i", topic);
        var reads = new CatchUpReads(new JournalReader(TestDatabase.DataSource), concurrency: 4);
        using var givesUp = new CancellationTokenSource();
        Task<List<JournalEvent>> first, second;

        await using (var blocker = await BlockedReads.LockAsync("relay.stream_events", "relay.stream_events"))
        {
            first = reads.ReadAsync(topic, 0, 10, int.MaxValue, givesUp.Token);
            await blocker.WaitForBlockedReadAsync();
            second = reads.ReadAsync(topic, 0, 10, int.MaxValue, CancellationToken.None);
            await Task.Delay(200);
            Assert.That(await blocker.BlockedReadCountAsync(), Is.EqualTo(1), "the second reader joined the first's read");
            await givesUp.CancelAsync();
            Assert.That(async () => await first, Throws.InstanceOf<OperationCanceledException>());
        }

        var events = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(events.Select(e => e.Watermark), Is.EqualTo(new long[] { 1, 2, 3 }));
        Assert.That(await reads.ReadAsync(topic, 0, 10, int.MaxValue, CancellationToken.None), Is.Not.SameAs(events), "a finished read is not reused");
    }
}
