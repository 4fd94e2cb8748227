using System.Diagnostics.Metrics;
using System.Text;
using Relay.Core.Diagnostics;

namespace Relay.Tests.Feeds;

[TestFixture("replication")]
[TestFixture("notify")]
public sealed class FeedDeliveryTests(string feed)
{
    [Test]
    public async Task Feed_eightWritersOnThreeTopics_everyEventReachesItsLogOnceInOrder()
    {
        var topics = new[] { await TestTopics.CreateAsync(), await TestTopics.CreateAsync(), await TestTopics.CreateAsync() };
        using var gapFills = new MeasurementRecorder("relay.feed.gap_fills");
        await using var relay = await CoreHarness.StartAsync(feed);

        await Writers.RunAsync(TestDatabase.ConnectionString, topics, writers: 8, perWriter: 300);

        foreach (var topic in topics)
        {
            await relay.WaitForDatabaseHeadAsync(topic);
            var ring = relay.Ring(topic).Select(e => (e.Watermark, e.DocKey, e.DocVersion, Payload: Encoding.UTF8.GetString(e.Payload!)));
            var journal = (await Writers.JournalAsync(topic)).Select(r => (r.Item1, r.Item2, r.Item3, r.Item4));
            Assert.That(ring, Is.EqualTo(journal), topic);
        }
        Assert.That(topics.Sum(t => relay.Ring(t).Count), Is.EqualTo(2400));
        // Everything came off the stream, or was read on its wake-up or found by the notify feed's poll: nothing was a
        // gap to read back from the journal.
        Assert.That(gapFills.Total(topics), Is.Zero);
    }

    [Test]
    public async Task Feed_topicDroppedAndCreatedAgainAsDocumented_startsItsLogOver()
    {
        await using var relay = await CoreHarness.StartAsync(feed);
        // Created after the relay started, and never subscribed: its log comes from the feed's first event, with no epoch.
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':old-' || i, '{}') FROM generate_series(1, 5) i", topic);
        await relay.WaitForHeadAsync(topic, 5);

        // docs/sql.md, "Dropping and recreating a topic".
        await Sql.ExecuteAsync($"""
            DO $$ BEGIN
                DELETE FROM relay.stream_events WHERE topic = '{topic}';
                DELETE FROM relay.documents WHERE topic = '{topic}';
                DELETE FROM relay.topics WHERE topic = '{topic}';
                PERFORM relay.create_topic('{topic}', 'inline', '7 days', false);
            END $$
            """);
        await Sql.ExecuteAsync("SELECT * FROM relay.reset_epoch($1)", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':new-' || i, '{}') FROM generate_series(1, 3) i", topic);

        // Before, on the replication feed, the log kept the old topic's events 1..5 under the new epoch, and took the new
        // ones for repeats of them (and counted a rewritten journal).
        // (The notify feed may start the log over at the new head after the new events: it then holds none of them,
        // and serves them from the journal.)
        string[] fresh = [$"{topic}:new-1", $"{topic}:new-2", $"{topic}:new-3"];
        await Eventually.ThatAsync(() => relay.Logs.Find(topic)?.Head == 3, "the log at the new topic's head");
        Assert.That(relay.Ring(topic).Select(e => e.DocKey), Is.SubsetOf(fresh), "no event of the old topic is held");
        Assert.That(relay.Ring(topic).Select(e => e.DocKey).ToList(), Is.EqualTo(fresh[^relay.Ring(topic).Count..].ToList()));
    }

    [Test]
    public async Task Feed_startedAfterEvents_startsAtTheHeadAndServesOlderEventsFromTheJournal()
    {
        var topic = await TestTopics.CreateAsync();
        await Writers.RunAsync(TestDatabase.ConnectionString, [topic], writers: 1, perWriter: 30);
        await using var relay = await CoreHarness.StartAsync(feed);

        await Writers.RunAsync(TestDatabase.ConnectionString, [topic], writers: 1, perWriter: 5);
        await relay.WaitForDatabaseHeadAsync(topic);

        Assert.That(relay.Ring(topic).Select(e => e.Watermark).ToList(), Is.EqualTo(Enumerable.Range(31, 5).Select(w => (long)w).ToList()));
    }

    [Test]
    public async Task Feed_topicCreatedWhileRunning_isFollowed()
    {
        await using var relay = await CoreHarness.StartAsync(feed);
        var topic = await TestTopics.CreateAsync();

        await Writers.RunAsync(TestDatabase.ConnectionString, [topic], writers: 2, perWriter: 10);
        await relay.WaitForDatabaseHeadAsync(topic);

        var batches = await relay.CollectAsync(topic, after: 0, through: 20);
        Assert.That(batches.SelectMany(b => b.Events).Select(e => e.Watermark), Is.EqualTo(Enumerable.Range(1, 20).Select(w => (long)w)));
    }

    [Test]
    public async Task NotifyFeed_servingTopics_turnsNotifyOnForThem()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await CoreHarness.StartAsync(feed);

        var notify = await Sql.ScalarAsync<bool>("SELECT notify FROM relay.topics WHERE topic = $1", topic);

        Assert.That(notify, Is.EqualTo(feed == "notify"));
    }
}

/// <summary>Sums what one instrument of the relay's meter records, per topic tag.</summary>
public sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string? Topic, long Value)> _measurements = [];

    public MeasurementRecorder(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == RelayMetrics.MeterName && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? topic = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "topic")
                {
                    topic = tag.Value as string;
                }
            }
            lock (_measurements)
            {
                _measurements.Add((topic, value));
            }
        });
        _listener.Start();
    }

    public long Total(IEnumerable<string> topics)
    {
        var set = topics.ToHashSet();
        lock (_measurements)
        {
            return _measurements.Where(m => m.Topic is null || set.Contains(m.Topic)).Sum(m => m.Value);
        }
    }

    public long Total()
    {
        lock (_measurements)
        {
            return _measurements.Sum(m => m.Value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
