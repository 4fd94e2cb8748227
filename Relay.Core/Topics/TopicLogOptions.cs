using System.ComponentModel.DataAnnotations;
using Relay.Protocol;

namespace Relay.Core.Topics;

/// <summary>Bounds of the in-memory topic logs (configuration section <c>Relay:TopicLogs</c>).</summary>
public sealed class TopicLogOptions
{
    /// <summary>Recent events kept per topic for readers close to the head. Default 10,000; between 1 and 10,000,000.</summary>
    [Range(1, 10_000_000)]
    public int RingCapacity { get; set; } = 10_000;

    /// <summary>Bytes of recent events kept per topic; the older ones are read from the journal. Default 64 MiB; between 1 and 1 GiB.</summary>
    [Range(1, 1 << 30)]
    public int RingMaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Most events in one batch handed to a subscriber. Default and most 200 (the wire protocol's batch limit).</summary>
    [Range(1, ProtocolLimits.MaxUpdatesPerBatch)]
    public int BatchMaxEvents { get; set; } = ProtocolLimits.MaxUpdatesPerBatch;

    /// <summary>Most bytes in one batch handed to a subscriber (a single larger event still goes alone). Default and most 2 MiB (the wire protocol's limit).</summary>
    [Range(1, ProtocolLimits.MaxBatchPayloadBytes)]
    public int BatchMaxBytes { get; set; } = ProtocolLimits.MaxBatchPayloadBytes;

    /// <summary>
    /// Most journal reads in flight at once for subscribers the rings cannot serve (catch-up); subscribers reading the
    /// same range share a read. Default 4, a quarter of the default database connection budget; between 1 and 1,000.
    /// </summary>
    [Range(1, 1000)]
    public int CatchUpReads { get; set; } = 4;

    /// <summary>
    /// Most payload bytes of pointer documents kept from recent reads, shared by every topic (they are read again once
    /// let go). Default 32 MiB; between 0 (no cache) and 1 GiB.
    /// </summary>
    [Range(0, 1 << 30)]
    public int PointerCacheBytes { get; set; } = 32 * 1024 * 1024;
}
