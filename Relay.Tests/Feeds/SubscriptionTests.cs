using Relay.Core.Subscriptions;
using Relay.Core.Tenancy;
using Relay.Core.Topics;

namespace Relay.Tests.Feeds;

public sealed class SubscriptionTests
{
    private static Task PublishManyAsync(string topic, int count, int payloadBytes = 10) =>
        Sql.ExecuteAsync(
            "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || (i % 100), " +
            "'payload', jsonb_build_object('i', i, 'fill', repeat('x', $3)))) FROM generate_series(1, $2) i))",
            topic, count, payloadBytes);

    private static List<long> Watermarks(IEnumerable<EventBatch> batches) => batches.SelectMany(b => b.Events).Select(e => e.Watermark).ToList();

    private static IEnumerable<long> Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(w => (long)w);

    [TestCase(0, TestName = "Subscribe_fromZero_replaysEveryEventOnceInOrder")]
    [TestCase(137, TestName = "Subscribe_fromOldWatermark_replaysWhatFollowsIt")]
    [TestCase(500, TestName = "Subscribe_atHead_receivesOnlyNewEvents")]
    public async Task Subscribe_fromResumePoint_deliversExactlyWhatFollows(long after)
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 500);
        await using var relay = await CoreHarness.StartAsync();
        var subscription = await relay.SubscribeAsync(topic, after);

        var replay = after < 500 ? await CoreHarness.CollectAsync(subscription, 500) : [];
        await PublishManyAsync(topic, 20);
        var live = await CoreHarness.CollectAsync(subscription, 520);

        Assert.That(Watermarks(replay.Concat(live)), Is.EqualTo(Range(after + 1, 520)));
        Assert.That(replay.Concat(live).Max(b => b.Events.Count), Is.LessThanOrEqualTo(200));
        var batches = replay.Concat(live).ToList();
        var caughtUp = batches.FindIndex(b => b.Phase == SubscriptionPhase.CaughtUp);
        Assert.That(caughtUp, Is.EqualTo(after < 500 ? replay.Count - 1 : 0), "one batch ends the replay: the last read up to the head, or an empty first one at the head");
        Assert.That(batches.Take(caughtUp).All(b => b.Phase == SubscriptionPhase.Replay), Is.True, "everything up to the head is replay");
        Assert.That(batches.Skip(caughtUp + 1).All(b => b.Phase == SubscriptionPhase.Live), Is.True, "what follows is live");
    }

    [Test]
    public async Task Subscribe_aheadOfHead_isStaleCursor()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 5);
        await using var relay = await CoreHarness.StartAsync();

        var error = await Assert.ThrowsAsync<StaleCursorException>(() => relay.SubscribeAsync(topic, 6));

        Assert.That(error!.Topic, Is.EqualTo(topic));
    }

    [Test]
    public async Task Subscribe_beforeRetainedWindow_isStaleCursor()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 10);
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);
        await PublishManyAsync(topic, 3);
        await using var relay = await CoreHarness.StartAsync();

        Assert.That(() => relay.SubscribeAsync(topic, 9), Throws.InstanceOf<StaleCursorException>());
        var fromWindow = await relay.CollectAsync(topic, after: 10, through: 13);
        Assert.That(Watermarks(fromWindow), Is.EqualTo(Range(11, 13)));
    }

    [Test]
    public async Task Subscription_whoseWholeRemainderIsPrunedWhileItCatchesUp_isStaleCursor()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 100);
        await using var relay = await CoreHarness.StartAsync(options: new TopicLogOptions { RingCapacity = 10 });
        var subscription = await relay.SubscribeAsync(topic, 0);
        await using var reader = subscription.ReadAsync().GetAsyncEnumerator();

        // Opened before the prune, read after it: the journal has nothing left after the cursor, the ring not all of it.
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);

        Assert.That(async () => await reader.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)), Throws.InstanceOf<StaleCursorException>());
    }

    [Test]
    public async Task Subscription_catchingUpToEventsItsLogHasButSnapshotsDoNotShowYet_waitsForThem_notStaleCursor()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 100);
        await using var relay = await CoreHarness.StartAsync(options: new TopicLogOptions { RingCapacity = 10 });
        await relay.WaitForDatabaseHeadAsync(topic);
        // Logical decoding can hand a commit to the feed a moment before other snapshots see it: here the log holds
        // events 91..100 and has passed 51..90, which a journal read does not find yet.
        var hidden = "hidden_" + Guid.NewGuid().ToString("N");
        await Sql.ExecuteAsync($"CREATE TABLE {hidden} AS SELECT * FROM relay.stream_events WHERE topic = $1 AND watermark > 50", topic);
        await Sql.ExecuteAsync("DELETE FROM relay.stream_events WHERE topic = $1 AND watermark > 50", topic);
        var subscription = await relay.SubscribeAsync(topic, 50);
        var batches = CoreHarness.CollectAsync(subscription, 100);

        await Task.Delay(500);
        var failedMeanwhile = batches.IsFaulted;
        await Sql.ExecuteAsync($"INSERT INTO relay.stream_events SELECT * FROM {hidden}; DROP TABLE {hidden}");

        Assert.That(failedMeanwhile, Is.False, "it did not give up on events its log has passed");
        Assert.That(Watermarks(await batches), Is.EqualTo(Range(51, 100)));
    }

    [Test]
    public async Task Subscribe_unknownTopic_isUnknownTopic()
    {
        await using var relay = await CoreHarness.StartAsync();

        Assert.That(() => relay.SubscribeAsync(TestTopics.Name(), 0), Throws.InstanceOf<UnknownTopicException>());
    }

    [Test]
    public async Task Subscription_ofAnAudience_deliversOnlyItsDocumentsButAdvancesThroughAll()
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true);
        await Sql.ExecuteAsync(
            "SELECT relay.publish($1, 'd' || i, '{}', CASE WHEN i % 3 = 0 THEN 'org-a' ELSE 'org-b' END) FROM generate_series(1, 300) i", topic);
        await using var relay = await CoreHarness.StartAsync();

        var batches = await relay.CollectAsync(topic, 0, 300, Audience.Of("org-a"));

        Assert.That(Watermarks(batches), Is.EqualTo(Range(1, 300).Where(w => w % 3 == 0)));
        Assert.That(batches[^1].Through, Is.EqualTo(300));
    }

    [Test]
    public async Task Subscription_largePayloads_batchesStayWithinTwoMebibytes()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishManyAsync(topic, 30, payloadBytes: 200_000);
        await using var relay = await CoreHarness.StartAsync();

        var batches = await relay.CollectAsync(topic, 0, 30);

        Assert.That(Watermarks(batches), Is.EqualTo(Range(1, 30)));
        Assert.That(batches.Select(b => b.Events.Sum(e => e.Payload!.Length)), Has.All.LessThanOrEqualTo(2 * 1024 * 1024));
        Assert.That(batches, Has.Count.GreaterThan(2));
    }

    [Test]
    public async Task Subscription_pointerDocumentUpdatedBeforeDelivery_arrivesOnceAtItsNewestVersion()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        for (var version = 1; version <= 5; version++)
        {
            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':doc', jsonb_build_object('v', $2::int))", topic, version);
        }
        await using var relay = await CoreHarness.StartAsync();

        var batches = await relay.CollectAsync(topic, 0, 5);

        var delivered = batches.SelectMany(b => b.Events).ToList();
        Assert.That(delivered.Select(e => (e.DocVersion, System.Text.Encoding.UTF8.GetString(e.Payload!))),
            Is.EqualTo(new[] { (5L, """{"v": 5}""") }));
        Assert.That(delivered.Single().PayloadHash, Is.EqualTo(
            await Sql.ScalarAsync<byte[]>("SELECT relay.payload_hash(payload) FROM relay.documents WHERE doc_key = $1 || ':doc'", topic)));
    }

    [Test]
    public async Task Subscription_pointerDocumentDeletedBeforeDelivery_arrivesAsTombstone()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':doc', '{\"a\":1}')", topic);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':doc')", topic);
        await using var relay = await CoreHarness.StartAsync();

        var delivered = (await relay.CollectAsync(topic, 0, 2)).SelectMany(b => b.Events).ToList();

        Assert.That(delivered.Select(e => (e.DocVersion, e.Tombstone, e.Payload is not null)), Is.EqualTo(new[] { (2L, true, false) }));
    }

    [Test]
    public async Task Subscription_stopsReadingWhile50000EventsFlow_staysBoundedAndCatchesUpWhileOthersDoNotWait()
    {
        var topic = await TestTopics.CreateAsync();
        var options = new TopicLogOptions { RingCapacity = 1000 };
        using var fellBehind = new MeasurementRecorder("relay.subscriptions.fell_behind");
        await using var relay = await CoreHarness.StartAsync(options: options);
        var slow = await relay.SubscribeAsync(topic, 0);
        await using var slowReader = slow.ReadAsync().GetAsyncEnumerator();
        Assert.That(await slowReader.MoveNextAsync(), Is.True);
        Assert.That((slowReader.Current.Phase, slowReader.Current.Events.Count), Is.EqualTo((SubscriptionPhase.CaughtUp, 0)), "the topic is empty: caught up at once");
        var firstWrite = PublishManyAsync(topic, 100);
        Assert.That(await slowReader.MoveNextAsync(), Is.True);
        await firstWrite;
        var others = Enumerable.Range(0, 3).Select(_ => relay.CollectAsync(topic, 0, 50_100)).ToArray();

        // The slow reader holds its first batch and reads nothing more while 50,000 events flow.
        for (var i = 0; i < 50; i++)
        {
            await PublishManyAsync(topic, 1000);
        }
        var fast = await Task.WhenAll(others);

        Assert.That(fast.Select(Watermarks), Has.All.EqualTo(Range(1, 50_100)));
        var (ringEvents, _) = relay.Logs.Find(topic)!.RingSize;
        Assert.That(ringEvents, Is.LessThanOrEqualTo(1000));
        Assert.That(slowReader.Current.Events, Has.Count.LessThanOrEqualTo(200), "the slow reader holds one batch at most");

        var seen = slowReader.Current.Events.Select(e => e.Watermark).ToList();
        while (seen[^1] < 50_100 && await slowReader.MoveNextAsync())
        {
            seen.AddRange(slowReader.Current.Events.Select(e => e.Watermark));
        }
        Assert.That(seen, Is.EqualTo(Range(1, 50_100)));
        Assert.That(fellBehind.Total([topic]), Is.GreaterThanOrEqualTo(1));
    }
}
