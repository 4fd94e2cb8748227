namespace Relay.Core.Subscriptions;

/// <summary>
/// A resume point this relay cannot serve: older than the topic's retained window, ahead of its head, or of another
/// epoch (a restored or different database). The client re-hydrates over HTTP and subscribes again from the
/// snapshot's watermark.
/// </summary>
public sealed class StaleCursorException : Exception
{
    /// <summary>A cursor outside the retained window <c>(<paramref name="retainedAfter"/>, <paramref name="head"/>]</c>.</summary>
    public StaleCursorException(string topic, long cursor, long retainedAfter, long head)
        : base($"{topic}: cursor {cursor} is outside the retained window ({retainedAfter}, {head}]")
    {
        Topic = topic;
        Cursor = cursor;
    }

    /// <summary>A cursor of epoch <paramref name="cursorEpoch"/> while the topic is at <paramref name="epoch"/>.</summary>
    public StaleCursorException(string topic, long cursor, string cursorEpoch, string epoch)
        : base($"{topic}: cursor {cursor} is of epoch {cursorEpoch}, but the topic is at epoch {epoch} (its database was restored or moved)")
    {
        Topic = topic;
        Cursor = cursor;
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The resume point asked for.</summary>
    public long Cursor { get; }
}
