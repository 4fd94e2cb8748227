using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Core.Feeds;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;
using Relay.Core.Tenancy;
using Relay.Core.Topics;

namespace Relay.Tests;

/// <summary>The relay's core on a real database: topic logs, one running feed, subscriptions.</summary>
public sealed class CoreHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    private CoreHarness(string connectionString, string feed, TopicLogOptions options, TimeSpan? notifyPoll, ILoggerFactory? loggers)
    {
        DataSource = NpgsqlDataSource.Create(connectionString);
        Journal = new JournalReader(DataSource);
        Logs = new TopicLogs(Journal, options, Metrics, NullLogger<TopicLogs>.Instance);
        Resolver = new PointerResolver(DataSource, options.PointerCacheBytes);
        Subscriptions = new SubscriptionSource(Logs, Journal, new CatchUpReads(Journal, options.CatchUpReads), Resolver, options, Metrics);
        var feedOptions = new FeedOptions { IdleAcknowledgeInterval = TimeSpan.FromMilliseconds(200), NotifyPollInterval = notifyPoll ?? TimeSpan.FromMilliseconds(500) };
        Feed = JournalFeeds.Create(feed, connectionString, Journal, Logs, feedOptions, Metrics, loggers ?? NullLoggerFactory.Instance);
    }

    public RelayMetrics Metrics { get; } = new();

    public NpgsqlDataSource DataSource { get; }

    public JournalReader Journal { get; }

    public TopicLogs Logs { get; }

    public PointerResolver Resolver { get; }

    public SubscriptionSource Subscriptions { get; }

    public JournalFeed Feed { get; }

    public static async Task<CoreHarness> StartAsync(
        string feed = "replication", string? connectionString = null, TopicLogOptions? options = null, TimeSpan? notifyPoll = null,
        ILoggerFactory? loggers = null)
    {
        var harness = new CoreHarness(connectionString ?? TestDatabase.ConnectionString, feed, options ?? new TopicLogOptions(), notifyPoll, loggers);
        harness._run = harness.Feed.RunAsync(harness._stop.Token);
        await Eventually.ThatAsync(() => harness.Feed.Status.Streaming || harness._run.IsCompleted, "the feed to stream");
        return harness;
    }

    public Task<Subscription> SubscribeAsync(string topic, long after, Audience? audience = null) =>
        Subscriptions.OpenAsync(topic, after, null, audience ?? Audience.Everyone);

    /// <summary>Waits until the topic's log has reached the head the database has now.</summary>
    public async Task WaitForDatabaseHeadAsync(string topic)
    {
        var head = await Sql.ScalarAsync<long>("SELECT head_watermark FROM relay.topics WHERE topic = $1", topic);
        await WaitForHeadAsync(topic, head);
    }

    public Task WaitForHeadAsync(string topic, long head) =>
        Eventually.ThatAsync(() => Logs.Find(topic)?.Head >= head, $"{topic} to reach {head}");

    /// <summary>Every event the log holds, from its first.</summary>
    public List<JournalEvent> Ring(string topic)
    {
        var log = Logs.Find(topic)!;
        var events = new List<JournalEvent>();
        log.TryRead(log.Head - log.RingSize.Events, int.MaxValue, int.MaxValue, events);
        return events;
    }

    /// <summary>Subscribes after <paramref name="after"/> and gathers batches until one reaches <paramref name="through"/>.</summary>
    public async Task<List<EventBatch>> CollectAsync(string topic, long after, long through, Audience? audience = null)
    {
        var subscription = await SubscribeAsync(topic, after, audience);
        return await CollectAsync(subscription, through);
    }

    /// <summary>Gathers batches of a subscription until one reaches <paramref name="through"/>.</summary>
    public static async Task<List<EventBatch>> CollectAsync(Subscription subscription, long through)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var batches = new List<EventBatch>();
        await foreach (var batch in subscription.ReadAsync(timeout.Token))
        {
            batches.Add(batch);
            if (batch.Through >= through)
            {
                break;
            }
        }
        return batches;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        await DataSource.DisposeAsync();
        Metrics.Dispose();
        _stop.Dispose();
    }
}
