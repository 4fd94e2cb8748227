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
