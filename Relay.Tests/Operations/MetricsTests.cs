using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Operations;

/// <summary>Scrapes <c>/metrics</c> of a relay on a real Kestrel port, as Prometheus would.</summary>
public sealed class MetricsTests
{
    /// <summary>Every series the design asks for, with its Prometheus type (docs/architecture.md §7).</summary>
    private static readonly (string Name, string Type)[] s_families =
    [
        ("khala_relay_topic_head", "gauge"),
        ("khala_relay_feed_events_total", "counter"),
        ("khala_relay_feed_gap_fills_total", "counter"),
        ("khala_relay_feed_journal_rewrites_total", "counter"),
        ("khala_relay_feed_reconnects_total", "counter"),
        ("khala_relay_feed_lag_seconds", "gauge"),
        ("khala_relay_feed_streaming", "gauge"),
        ("khala_relay_subscriptions_fell_behind_total", "counter"),
        ("khala_relay_connects_total", "counter"),
        ("khala_relay_resumes_total", "counter"),
        ("khala_relay_stale_cursors_total", "counter"),
        ("khala_relay_pushes_dropped_total", "counter"),
        ("khala_relay_slow_consumer_disconnects_total", "counter"),
        ("khala_relay_replay_errors_total", "counter"),
        ("khala_relay_watermark_allocation_failures_total", "counter"),
        ("khala_relay_replay_batch_duration_seconds", "histogram"),
        ("khala_relay_catchup_duration_seconds", "histogram"),
        ("khala_relay_connections", "gauge"),
        ("khala_relay_connections_queued_bytes", "gauge"),
        ("khala_relay_connections_queued_max_bytes", "gauge"),
        ("khala_relay_client_lag_max", "gauge"),
        ("khala_relay_client_lag_p95", "gauge"),
        ("khala_relay_journal_head", "gauge"),
        ("khala_relay_journal_rows", "gauge"),
        ("khala_relay_journal_size_bytes", "gauge"),
        ("khala_relay_journal_oldest_watermark", "gauge"),
        ("khala_relay_journal_oldest_event_age_seconds", "gauge"),
        ("khala_relay_journal_retention_seconds", "gauge"),
        ("khala_relay_slot_retained_wal_bytes", "gauge"),
        ("khala_relay_notify_queue_usage", "gauge"),
        ("khala_relay_database_read_age_seconds", "gauge"),
    ];

    private static readonly string[] s_perTopic =
    [
        "khala_relay_topic_head", "khala_relay_feed_events_total", "khala_relay_feed_gap_fills_total", "khala_relay_feed_journal_rewrites_total",
        "khala_relay_subscriptions_fell_behind_total",
        "khala_relay_resumes_total", "khala_relay_stale_cursors_total", "khala_relay_replay_errors_total", "khala_relay_client_lag_max",
        "khala_relay_client_lag_p95", "khala_relay_journal_head", "khala_relay_journal_rows", "khala_relay_journal_size_bytes",
        "khala_relay_journal_oldest_watermark", "khala_relay_journal_oldest_event_age_seconds", "khala_relay_journal_retention_seconds",
    ];

    [Test]
    public async Task Metrics_databaseReadAge_growsWhileTheReadWaitsOnALock_andFallsOnceItAnswers()
    {
        // Before, a read stuck behind a lock (VACUUM FULL of the journal) left every database gauge at its last value,
        // and nothing showed they were old: the slot and retention alerts could not fire (ops review O7).
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_database_read_age_seconds") < 1, "a fresh read");

        await using (var connection = await TestDatabase.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var lockJournal = new Npgsql.NpgsqlCommand("LOCK TABLE relay.stream_events IN ACCESS EXCLUSIVE MODE", connection, transaction))
            {
                await lockJournal.ExecuteNonQueryAsync();
            }
            await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_database_read_age_seconds") > 2, "the age to grow while locked");
            await transaction.RollbackAsync();
        }

        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_database_read_age_seconds") < 1, "a fresh read once the lock is gone");
    }

    [Test]
    public async Task Metrics_firstScrape_hasEverySeriesWithItsTypeAndNoDoubledPrefix()
    {
        var topic = await TestTopics.CreateAsync(retention: "1 day");
        await PublishAsync(topic, 3);
        await using var relay = await RelayServerHarness.StartAsync(Fast);

        var scrape = await ScrapeAsync(relay);

        Assert.Multiple(() =>
        {
            foreach (var (name, type) in s_families)
            {
                Assert.That(scrape.Types.GetValueOrDefault(name), Is.EqualTo(type), name);
            }
            foreach (var name in s_perTopic)
            {
                Assert.That(scrape.Value(name, topic), Is.Not.Null, $"{name} for {topic}");
            }
            Assert.That(scrape.Types.Keys.Where(n => n.Contains("relay_relay", StringComparison.Ordinal)), Is.Empty);
            Assert.That(scrape.Types.Where(t => t.Value == "counter").Select(t => t.Key), Has.All.EndsWith("_total"));
            Assert.That(scrape.Value("khala_relay_journal_rows", topic), Is.EqualTo(3));
            Assert.That(scrape.Value("khala_relay_journal_size_bytes", topic) % 1, Is.Zero, "whole bytes (it said 2011.4658128361707)");
            Assert.That(scrape.Value("khala_relay_journal_head", topic), Is.EqualTo(3));
            Assert.That(scrape.Value("khala_relay_journal_oldest_watermark", topic), Is.EqualTo(1));
            Assert.That(scrape.Value("khala_relay_journal_retention_seconds", topic), Is.EqualTo(86400));
            Assert.That(scrape.Value("khala_relay_feed_streaming"), Is.EqualTo(1));
        });
        // The feed creates its temporary slot in the background; a later poll reports it.
        await Eventually.ThatAsync(
            async () => (await ScrapeAsync(relay)).Samples.Keys.Any(k => k.StartsWith("khala_relay_slot_retained_wal_bytes{slot=\"relay_", StringComparison.Ordinal)),
            "the replication feed's temporary slot");
    }

    [Test]
    public async Task Metrics_retentionOfAYear_isTheSpanPruneKeepsToday_notAYearOf365AndAQuarterDays()
    {
        var topic = await TestTopics.CreateAsync(retention: "1 year");
        await using var relay = await RelayServerHarness.StartAsync(Fast);

        var scrape = await ScrapeAsync(relay);

        // relay.prune cuts at now() - retention, by the calendar: 365 or 366 days. extract(epoch) of the interval says
        // 365.25, and with '1 month' 30 days after a 31-day month: the retention alert fired while retention worked.
        var kept = await Sql.ScalarAsync<double>("SELECT extract(epoch FROM now() - (now() - interval '1 year'))::float8");
        Assert.That(kept, Is.EqualTo(365 * 86400).Or.EqualTo(366 * 86400));
        Assert.That(scrape.Value("khala_relay_journal_retention_seconds", topic), Is.EqualTo(kept));
    }

    [Test]
    public async Task Metrics_slotSeries_isThereOnceTheFeedStreams_notAPollIntervalLater()
    {
        var others = (await Sql.RowsAsync("SELECT slot_name FROM pg_replication_slots")).Select(row => $"khala_relay_slot_retained_wal_bytes{{slot=\"{row[0]}\"}}").ToHashSet();
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Metrics:PollInterval"] = "00:10:00" });

        // Before, the slot the feed made after the first read showed at the next read: here ten minutes later.
        await Eventually.ThatAsync(
            async () => (await ScrapeAsync(relay)).Samples.Keys.Any(k => k.StartsWith("khala_relay_slot_retained_wal_bytes{slot=\"relay_", StringComparison.Ordinal) && !others.Contains(k)),
            "this relay's temporary slot");
    }

    [Test]
    public async Task Metrics_clientResumesAndCatchesUp_countsResumeStaleCursorCatchUpAndLag()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 5);
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        var before = await ScrapeAsync(relay);
        await using var client = await WsClient.ConnectAsync(relay);

        await client.SubscribeAsync(topic, after: 2);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { topic }, ResumeAfter = { [topic] = 99 } } });
        await client.ReceiveUntilAsync(e => e.Error?.Code == ErrorCode.StaleCursor);
        var after = await ScrapeAsync(relay);

        Assert.Multiple(() =>
        {
            Assert.That(after.Value("khala_relay_connects_total") - before.Value("khala_relay_connects_total"), Is.EqualTo(1));
            Assert.That(after.Value("khala_relay_resumes_total", topic), Is.EqualTo(1));
            Assert.That(after.Value("khala_relay_stale_cursors_total", topic), Is.EqualTo(1));
            Assert.That(after.Value("khala_relay_catchup_duration_seconds_count") - before.Value("khala_relay_catchup_duration_seconds_count"),
                Is.GreaterThanOrEqualTo(1));
            Assert.That(after.Value("khala_relay_replay_batch_duration_seconds_count"), Is.GreaterThan(before.Value("khala_relay_replay_batch_duration_seconds_count") ?? 0),
                "the replay read the journal (the log started empty at the head)");
            Assert.That(after.Value("khala_relay_connections"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Metrics_subscriberBehindTheHead_reportsClientLag()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 4);
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        await using var client = await WsClient.ConnectAsync(relay);
        await client.SubscribeAsync(topic, after: 4);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);

        var caughtUp = await ScrapeAsync(relay);

        Assert.That(caughtUp.Value("khala_relay_client_lag_max", topic), Is.EqualTo(0));
        Assert.That(caughtUp.Value("khala_relay_client_lag_p95", topic), Is.EqualTo(0));
    }

    [Test]
    public async Task Metrics_clientThatStopsReading_showsLagThenASlowConsumerDisconnect()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = (256 * 1024).ToString(CultureInfo.InvariantCulture),
            ["Relay:Sync:SendTimeout"] = "00:00:10",
        });
        var topic = await TestTopics.CreateAsync();
        await using var slow = await WsClient.ConnectAsync(relay);
        await slow.SubscribeAsync(topic);
        await slow.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);

        // About 16 MB that the slow client never reads: its queue fills, its pump stops, and its watermark stays behind.
        for (var i = 0; i < 16; i++)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || ($2 * 50 + n), " +
                "'payload', jsonb_build_object('fill', repeat('x', 20000)))) FROM generate_series(1, 50) n))", topic, i);
        }

        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_client_lag_max", topic) > 0, "the slow client's lag");
        await Eventually.ThatAsync(
            async () => (await ScrapeAsync(relay)).Value("khala_relay_slow_consumer_disconnects_total") >= 1, "the slow client to be disconnected");
        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_client_lag_max", topic) == 0, "no lag once it is gone");
    }

    [Test]
    public async Task Metrics_subscriberThatFellBehindAndCaughtUpAgain_recordsItsCatchUpOnce()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = (64 * 1024).ToString(CultureInfo.InvariantCulture),
            ["Relay:TopicLogs:RingCapacity"] = "10",
        });
        var topic = await TestTopics.CreateAsync();
        await using var client = await WsClient.ConnectAsync(relay);
        await client.SubscribeAsync(topic);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
        var before = await ScrapeAsync(relay);

        // About 16 MB, not read until the log is far past the pump, which then falls behind and catches up again.
        for (var i = 0; i < 16; i++)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || ($2 * 50 + n), " +
                "'payload', jsonb_build_object('fill', repeat('x', 20000)))) FROM generate_series(1, 50) n))", topic, i);
        }
        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_topic_head", topic) == 800, "the log at the head");
        await client.UpdatesThroughAsync(topic, 800);
        var after = await ScrapeAsync(relay);

        Assert.That(after.Value("khala_relay_subscriptions_fell_behind_total", topic), Is.GreaterThanOrEqualTo(1), "the subscriber fell behind");
        Assert.That(after.Value("khala_relay_catchup_duration_seconds_count"), Is.EqualTo(before.Value("khala_relay_catchup_duration_seconds_count")),
            "a catch-up after falling behind is not a Subscribe's");
    }

    [Test]
    public async Task Metrics_aListenerThatStopsReading_showsTheNotifyQueueFilling_andDrainingOnceItReads()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET notify = true WHERE topic = $1", topic);
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        // A session that LISTENs, then sits in a transaction: it reads no notification until the transaction ends.
        var unpooled = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Pooling = false }.ConnectionString;
        await using var listener = new NpgsqlConnection(unpooled);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand("LISTEN relay_journal", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }
        await using var transaction = await listener.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT 1", listener, transaction))
        {
            await hold.ExecuteScalarAsync();
        }

        // A thousand commits, each notifying: several pages of the queue.
        await Sql.ExecuteAsync($$"""
            DO $$ BEGIN
              FOR i IN 1..1000 LOOP PERFORM relay.publish('{{topic}}', '{{topic}}:' || i, '{}'); COMMIT; END LOOP;
            END $$
            """);

        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_notify_queue_usage") > 0, "the queue's usage to show");
        await transaction.CommitAsync();
        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_notify_queue_usage") == 0, "the queue to drain");
    }

    [Test]
    public async Task Metrics_idleDatabase_feedLagIsZero()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        await PublishAsync(topic, 2);

        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_topic_head", topic) == 2, "the feed to deliver");
        await Eventually.ThatAsync(async () => (await ScrapeAsync(relay)).Value("khala_relay_journal_head", topic) == 2, "a poll after the publish");

        Assert.That((await ScrapeAsync(relay)).Value("khala_relay_feed_lag_seconds"), Is.EqualTo(0));
    }

    [Test]
    public async Task Metrics_writerRollsBackAPublish_countsAnAllocationFailure()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        var before = (await ScrapeAsync(relay)).Value("khala_relay_watermark_allocation_failures_total");

        // A connection of its own that ends at once, so that PostgreSQL flushes its statistics.
        var unpooled = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Pooling = false }.ConnectionString;
        await using (var connection = new NpgsqlConnection(unpooled))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var publish = new NpgsqlCommand("SELECT relay.publish($1, 'k1', '{\"a\":1}')", connection, transaction);
            publish.Parameters.AddWithValue(topic);
            await publish.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        await Eventually.ThatAsync(
            async () => (await ScrapeAsync(relay)).Value("khala_relay_watermark_allocation_failures_total") > before,
            "the rolled-back allocation to be counted");
    }

    [TestCase("deploy/grafana/khala-relay.json")]
    [TestCase("deploy/prometheus/khala-relay.rules.yml")]
    [TestCase("docs/architecture.md")]
    public void Series_namedInDashboardAlertsAndDocs_areTheOnesTheRelayExports(string file)
    {
        var named = Regex.Matches(File.ReadAllText(Path.Combine(Repository.Root(), file)), @"khala_relay_[a-z0-9_]+")
            .Select(m => Regex.Replace(m.Value, "_(bucket|count|sum)$", ""))
            .Where(name => !name.EndsWith('_'))
            .ToHashSet();

        Assert.That(named, Is.Not.Empty);
        Assert.That(named, Is.SubsetOf(s_families.Select(f => f.Name)));
    }

    [Test]
    public async Task Metrics_badPollInterval_refusedAtStart()
    {
        var failure = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Metrics:PollInterval"] = "00:00:00" }));

        Assert.That(failure!.Message, Does.Contain("PollInterval"));
    }

    private static Dictionary<string, string> Fast => new() { ["Relay:Metrics:PollInterval"] = "00:00:00.200" };

    private static Task PublishAsync(string topic, int count) =>
        Sql.ExecuteAsync(
            "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || i, 'payload', jsonb_build_object('i', i))) " +
            "FROM generate_series(1, $2) i))", topic, count);

    private static async Task<MetricsScrape> ScrapeAsync(RelayServerHarness relay)
    {
        using var http = relay.HttpClient();
        return MetricsScrape.Parse(await http.GetStringAsync("/metrics"));
    }
}
