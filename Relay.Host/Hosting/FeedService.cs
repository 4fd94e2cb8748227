using Relay.Core.Feeds;

namespace Relay.Host.Hosting;

/// <summary>Runs the configured journal feed for the life of the host.</summary>
internal sealed class FeedService(JournalFeed feed) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => feed.RunAsync(stoppingToken);
}
