namespace Relay.Core.Topics;

/// <summary>Bounds of the in-memory topic logs (configuration section <c>Relay:TopicLogs</c>).</summary>
public sealed class TopicLogOptions
{
    /// <summary>Recent events kept per topic for readers close to the head. Default 10,000.</summary>
    public int RingCapacity { get; set; } = 10_000;

    /// <summary>Bytes of recent events kept per topic; the older ones are read from the journal. Default 64 MiB.</summary>
    public int RingMaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Most events in one batch handed to a subscriber. Default 200 (the wire protocol's batch limit).</summary>
    public int BatchMaxEvents { get; set; } = 200;

    /// <summary>Most bytes in one batch handed to a subscriber (a single larger event still goes alone). Default 2 MiB.</summary>
    public int BatchMaxBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// Most journal reads in flight at once for subscribers the rings cannot serve (catch-up); subscribers reading the
    /// same range share a read. Default 4, a quarter of the default database connection budget.
    /// </summary>
    public int CatchUpReads { get; set; } = 4;
}
