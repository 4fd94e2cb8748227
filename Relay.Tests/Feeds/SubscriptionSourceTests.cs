using System.Diagnostics.Metrics;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;

namespace Relay.Tests.Feeds;

public sealed class SubscriptionSourceTests
{
    [Test]
    public async Task Open_atThisRelaysHead_needsNoDatabaseRoundTrip()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await CoreHarness.StartAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 5) i", topic);
        await relay.WaitForDatabaseHeadAsync(topic);

        // Any read of a topic's row now waits for this lock: a reconnect storm at the head must not need one.
        await using (await BlockedReads.LockAsync("relay.topics", "relay.topics"))
        {
            var atHead = await relay.SubscribeAsync(topic, 5).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.That((atHead.HeadAtOpen, atHead.Epoch), Is.EqualTo((5L, relay.Logs.Find(topic)!.Epoch)));
        }
    }

    [Test]
    public async Task Open_behindTheHeadAfterAPrune_isStaleCursor_evenWhileTheRingStillHoldsTheEvents()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await CoreHarness.StartAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 5) i", topic);
        await relay.WaitForDatabaseHeadAsync(topic);
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);

        var error = await Assert.ThrowsAsync<StaleCursorException>(() => relay.SubscribeAsync(topic, 2));

        Assert.That(error!.Topic, Is.EqualTo(topic));
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

    [Test]
    public async Task CatchUpReads_whileManyOfOneTopicWait_takeTurnsByTopic_soAnotherTopicsReadIsNotLast()
    {
        var storm = await TestTopics.CreateAsync();
        var other = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish(t, t || ':' || i, '{}') FROM unnest(ARRAY[$1, $2]) t, generate_series(1, 5) i", storm, other);
        var reads = new CatchUpReads(new JournalReader(TestDatabase.DataSource), concurrency: 1);
        var finished = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task<List<JournalEvent>> Read(string topic, long after)
        {
            var events = await reads.ReadAsync(topic, after, 10, int.MaxValue, CancellationToken.None);
            finished.Enqueue($"{(topic == storm ? "storm" : "other")} after {after}");
            return events;
        }
        var stormReads = new List<Task<List<JournalEvent>>>();
        Task<List<JournalEvent>> otherRead;

        await using (var blocker = await BlockedReads.LockAsync("relay.stream_events", "relay.stream_events"))
        {
            // A reconnect storm: subscribers of one topic from different watermarks, each its own read; the first holds
            // the only slot, the others wait. Then one subscriber of another topic.
            stormReads.Add(Read(storm, 0));
            await blocker.WaitForBlockedReadAsync();
            stormReads.AddRange(Enumerable.Range(1, 4).Select(after => Read(storm, after)));
            otherRead = Read(other, 0);
        }

        Assert.That((await otherRead.WaitAsync(TimeSpan.FromSeconds(30))).Select(e => e.Watermark), Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
        await Task.WhenAll(stormReads).WaitAsync(TimeSpan.FromSeconds(30));
        // Before, it waited for every read queued before it, and finished last.
        await Eventually.ThatAsync(() => finished.Count == 6, "every read to be recorded");
        Assert.That(finished, Is.EqualTo(new[] { "storm after 0", "storm after 1", "other after 0", "storm after 2", "storm after 3", "storm after 4" }),
            "slots taken in turns by topic");
        Assert.That((await Task.WhenAll(stormReads)).Select(events => events.Count), Is.EqualTo(new[] { 5, 4, 3, 2, 1 }));
    }

    [Test]
    public async Task CatchUpReads_queuedForSubscribersThatAllGaveUp_doNotReadTheJournal()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 60) i", topic);
        using var metrics = new RelayMetrics();
        var journalReads = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter && instrument.Name == "relay.replay.batch.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref journalReads));
        listener.Start();
        var reads = new CatchUpReads(new JournalReader(TestDatabase.DataSource, metrics), concurrency: 1);
        using var gaveUp = new CancellationTokenSource();
        Task<List<JournalEvent>> first, wanted;
        List<Task<List<JournalEvent>>> abandoned;

        await using (var blocker = await BlockedReads.LockAsync("relay.stream_events", "relay.stream_events"))
        {
            first = reads.ReadAsync(topic, 0, 10, int.MaxValue, CancellationToken.None);
            await blocker.WaitForBlockedReadAsync();
            // A client subscribing again and again from other points: each read is queued, and given up.
            abandoned = [.. Enumerable.Range(1, 50).Select(after => reads.ReadAsync(topic, after, 10, int.MaxValue, gaveUp.Token))];
            wanted = reads.ReadAsync(topic, 51, 10, int.MaxValue, CancellationToken.None);
            await gaveUp.CancelAsync();
        }

        Assert.That((await wanted.WaitAsync(TimeSpan.FromSeconds(30))).Select(e => e.Watermark), Is.EqualTo(Enumerable.Range(52, 9).Select(w => (long)w)));
        Assert.That((await first).Count, Is.EqualTo(10));
        Assert.That(abandoned, Has.All.Matches<Task>(read => read!.IsCanceled));
        // Before, each of the 50 still read the journal when its turn came, and the wanted read waited behind them all.
        Assert.That(journalReads, Is.EqualTo(2), "the first read and the one still waited for");
    }
}
