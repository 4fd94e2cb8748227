using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Core.Feeds;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;
using Relay.Core.Topics;

namespace Relay.Bench.E2E;

/// <summary>
/// The relay's core (topic logs and one feed) running in this process against a database, with a connection pool of
/// its own, as the relay process has: the load generator's connections must not starve its reads.
/// </summary>
internal sealed class CoreRelay : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly NpgsqlDataSource _dataSource;
    private readonly Task _run;

    public CoreRelay(string connectionString, string feed)
    {
        var dataSource = _dataSource = NpgsqlDataSource.Create(connectionString);
        var journal = new JournalReader(dataSource);
        Logs = new TopicLogs(journal, new TopicLogOptions(), Metrics, NullLogger<TopicLogs>.Instance);
        Resolver = new PointerResolver(dataSource);
        Feed = JournalFeeds.Create(feed, connectionString, journal, Logs, new FeedOptions(), Metrics, NullLoggerFactory.Instance);
        _run = Feed.RunAsync(_stop.Token);
    }

    public RelayMetrics Metrics { get; } = new();

    public TopicLogs Logs { get; }

    public PointerResolver Resolver { get; }

    public JournalFeed Feed { get; }

    public async Task WaitStreamingAsync()
    {
        while (!Feed.Status.Streaming)
        {
            await Task.Delay(20);
        }
    }

    public Task<Subscription> SubscribeAsync(string topic, long after) => Subscription.OpenAsync(Logs, Resolver, Metrics, topic, after, null);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        await _dataSource.DisposeAsync();
        Metrics.Dispose();
        _stop.Dispose();
    }
}
