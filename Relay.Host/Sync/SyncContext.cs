using Relay.Core.Auth;
using Relay.Core.Diagnostics;
using Relay.Core.Subscriptions;
using Relay.Core.Topics;

namespace Relay.Host.Sync;

/// <summary>What every connection shares: topic logs, pointer resolver, frame cache, token validator, options, logging.</summary>
internal sealed class SyncContext(
    TopicLogs logs, PointerResolver resolver, RelayMetrics metrics, SyncOptions options, BatchFrameCache frames,
    SyncConnections connections, TokenValidator tokens, RefusalLog refusals, ILogger<SyncConnection> logger)
{
    public TokenValidator Tokens { get; } = tokens;

    public TopicLogs Logs { get; } = logs;

    public PointerResolver Resolver { get; } = resolver;

    public RelayMetrics Metrics { get; } = metrics;

    public SyncOptions Options { get; } = options;

    public BatchFrameCache Frames { get; } = frames;

    public SyncConnections Connections { get; } = connections;

    public RefusalLog Refusals { get; } = refusals;

    public ILogger<SyncConnection> Logger { get; } = logger;
}
