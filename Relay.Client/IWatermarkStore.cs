namespace Relay.Client;

/// <summary>
/// Where a <see cref="RelayClient"/> keeps its resume point per topic: the watermark it has been brought up to and
/// that watermark's epoch (<see cref="ResumePoint"/>).
/// The client reads it when it subscribes and writes it after every applied batch and heartbeat. A store that outlives
/// the process must save the documents of <see cref="RelayClientOptions.Cache"/> in the same write (as
/// <see cref="FileWatermarkStore"/> does): a client restarted with a watermark but without the documents before it
/// would never receive them again.
/// </summary>
public interface IWatermarkStore
{
    /// <summary>The stored resume point of <paramref name="topic"/>, or <see cref="ResumePoint.Start"/> when none is stored.</summary>
    ValueTask<ResumePoint> GetAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Stores each topic's resume point of <paramref name="points"/>; topics not listed keep theirs.</summary>
    ValueTask SetAsync(IReadOnlyDictionary<string, ResumePoint> points, CancellationToken cancellationToken = default);
}
