namespace Relay.Core.Feeds;

/// <summary>Whether a feed is streaming right now, for readiness.</summary>
public sealed class FeedStatus
{
    private readonly TaskCompletionSource _streamed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _problem = "not started";

    /// <summary>True while the feed is connected and following the journal.</summary>
    public bool Streaming => _problem is null;

    /// <summary>Why the feed is not streaming; null when it is.</summary>
    public string? Problem => _problem;

    /// <summary>Completes when the feed first streams (its replication slot made, for the replication feed).</summary>
    public Task FirstStreaming => _streamed.Task;

    internal void SetStreaming()
    {
        _problem = null;
        _streamed.TrySetResult();
    }

    internal void SetProblem(string problem) => _problem = problem;
}
