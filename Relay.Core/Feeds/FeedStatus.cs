namespace Relay.Core.Feeds;

/// <summary>Whether a feed is streaming right now, for readiness.</summary>
public sealed class FeedStatus
{
    private volatile string? _problem = "not started";

    /// <summary>True while the feed is connected and following the journal.</summary>
    public bool Streaming => _problem is null;

    /// <summary>Why the feed is not streaming; null when it is.</summary>
    public string? Problem => _problem;

    internal void SetStreaming() => _problem = null;

    internal void SetProblem(string problem) => _problem = problem;
}
