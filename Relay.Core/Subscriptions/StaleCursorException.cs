namespace Relay.Core.Subscriptions;

/// <summary>
/// A resume point this relay cannot serve: older than the topic's retained window, or ahead of its head (a restored or
/// different database). The client re-hydrates over HTTP and subscribes again from the snapshot's watermark.
/// </summary>
public sealed class StaleCursorException(string topic, long cursor, long retainedAfter, long head)
    : Exception($"{topic}: cursor {cursor} is outside the retained window ({retainedAfter}, {head}]")
{
    /// <summary>The topic.</summary>
    public string Topic { get; } = topic;

    /// <summary>The resume point asked for.</summary>
    public long Cursor { get; } = cursor;
}
