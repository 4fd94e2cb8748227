using Relay.Core.Subscriptions;

namespace Relay.Host.Sync;

/// <summary>One subscribed topic of a connection: the task moving its subscription's batches into the send queue.</summary>
internal sealed class TopicPump(Subscription subscription, CancellationTokenSource stop)
{
    private long _through = subscription.After;

    public Subscription Subscription { get; } = subscription;

    public CancellationTokenSource Stop { get; } = stop;

    public Task Running { get; set; } = Task.CompletedTask;

    /// <summary>
    /// The subscriber's cursor: every update at or below this watermark has been queued for the client (what heartbeats
    /// report).
    /// </summary>
    public long Through
    {
        get => Interlocked.Read(ref _through);
        set => Interlocked.Exchange(ref _through, value);
    }

    public async Task StopAsync()
    {
        await Stop.CancelAsync();
        await Running;
        Stop.Dispose();
    }
}
