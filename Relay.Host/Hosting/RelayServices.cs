using Microsoft.Extensions.Options;
using Npgsql;
using Relay.Core.Auth;
using Relay.Core.Diagnostics;
using Relay.Core.Feeds;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;
using Relay.Core.Topics;
using Relay.Host.Configuration;
using Relay.Host.Sync;

namespace Relay.Host.Hosting;

/// <summary>Registers the relay's core services on a data source.</summary>
internal static class RelayServices
{
    public static IServiceCollection AddRelayCore(this IServiceCollection services, RelayOptions options, NpgsqlDataSource dataSource, string connectionString)
    {
        services.AddSingleton(dataSource);
        // Relay.Core takes its options as plain objects: the validated values of the options pipeline.
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<FeedOptions>>().Value);
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<TopicLogOptions>>().Value);
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<JournalReader>();
        services.AddSingleton<TopicLogs>();
        services.AddSingleton(provider => new PointerResolver(provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<TopicLogOptions>().PointerCacheBytes));
        services.AddSingleton(provider => new CatchUpReads(provider.GetRequiredService<JournalReader>(), provider.GetRequiredService<TopicLogOptions>().CatchUpReads));
        services.AddSingleton<SubscriptionSource>();
        services.AddSingleton(provider => JournalFeeds.Create(
            options.Feed, connectionString, provider.GetRequiredService<JournalReader>(), provider.GetRequiredService<TopicLogs>(),
            provider.GetRequiredService<FeedOptions>(), provider.GetRequiredService<RelayMetrics>(), provider.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<FeedService>();
        return services;
    }

    public static IServiceCollection AddRelaySync(this IServiceCollection services, TokenValidator tokens)
    {
        services.AddSingleton(tokens);
        services.AddSingleton<BatchFrameCache>();
        services.AddSingleton<SyncConnections>();
        services.AddSingleton<RefusalLog>();
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<SyncContext>(
            provider, provider.GetRequiredService<IOptions<SyncOptions>>().Value));
        return services;
    }
}
