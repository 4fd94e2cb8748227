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
    public static IServiceCollection AddRelayCore(this IServiceCollection services, IConfiguration configuration, RelayOptions options, NpgsqlDataSource dataSource)
    {
        var feedOptions = configuration.GetSection(RelayOptions.Section).Get<FeedOptions>() ?? new FeedOptions();
        var topicLogOptions = configuration.GetSection($"{RelayOptions.Section}:TopicLogs").Get<TopicLogOptions>() ?? new TopicLogOptions();
        services.AddSingleton(dataSource);
        services.AddSingleton(feedOptions);
        services.AddSingleton(topicLogOptions);
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<JournalReader>();
        services.AddSingleton<TopicLogs>();
        services.AddSingleton<PointerResolver>();
        services.AddSingleton(provider => new CatchUpReads(provider.GetRequiredService<JournalReader>(), topicLogOptions.CatchUpReads));
        services.AddSingleton<SubscriptionSource>();
        services.AddSingleton(provider => JournalFeeds.Create(
            options.Feed, dataSource.ConnectionString, provider.GetRequiredService<JournalReader>(), provider.GetRequiredService<TopicLogs>(),
            feedOptions, provider.GetRequiredService<RelayMetrics>(), provider.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<FeedService>();
        return services;
    }

    public static IServiceCollection AddRelaySync(this IServiceCollection services, IConfiguration configuration, TokenValidator tokens)
    {
        services.Configure<SyncOptions>(configuration.GetSection($"{RelayOptions.Section}:Sync"));
        services.AddSingleton(tokens);
        services.AddSingleton<BatchFrameCache>();
        services.AddSingleton<SyncConnections>();
        services.AddSingleton<RefusalLog>();
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<SyncContext>(
            provider, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<SyncOptions>>().Value));
        return services;
    }
}
