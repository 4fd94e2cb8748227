using Relay.Core.Auth;
using Relay.Core.Diagnostics;
using Relay.Core.Subscriptions;

namespace Relay.Host.Sync;

/// <summary>What every connection shares: the subscription source, frame cache, token validator, options, logging.</summary>
internal sealed class SyncContext(
    SubscriptionSource subscriptions, RelayMetrics metrics, SyncOptions options, BatchFrameCache frames,
    SyncConnections connections, TokenValidator tokens, RefusalLog refusals, ILogger<SyncConnection> logger)
{
    public TokenValidator Tokens { get; } = tokens;

    public SubscriptionSource Subscriptions { get; } = subscriptions;

    public RelayMetrics Metrics { get; } = metrics;

    public SyncOptions Options { get; } = options;

    public BatchFrameCache Frames { get; } = frames;

    public SyncConnections Connections { get; } = connections;

    public RefusalLog Refusals { get; } = refusals;

    public ILogger<SyncConnection> Logger { get; } = logger;
}
