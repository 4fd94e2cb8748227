namespace Relay.Client;

/// <summary>
/// Where a <see cref="RelayClient"/> keeps its resume point per topic: the watermark it has been brought up to and
/// that watermark's epoch (<see cref="ResumePoint"/>), and the <see cref="SyncIdentity"/> they belong to.
/// The client loads it for the identity of its token before it first connects (and again when its token names another
/// identity), reads it when it subscribes, and writes it after every applied batch and heartbeat (a store may save those writes later, together). A store that outlives
/// the process must save the identity and the documents of <see cref="RelayClientOptions.Cache"/> in the same write (as
/// <see cref="FileWatermarkStore"/> does): a client restarted with a watermark but without the documents before it
/// would never receive them again, and one restarted under another identity must not get them at all.
/// </summary>
public interface IWatermarkStore
{
    /// <summary>
    /// Makes <paramref name="identity"/> (null for a token that names none) the one whose state the store holds. Returns
    /// true when the state it holds is that identity's and is kept (a persistent store restores its documents into the
    /// cache now); false when it held state of another identity, or saved state that records none, which it has
    /// discarded: every resume point is forgotten and saved documents are not restored. The next write saves the
    /// identity with the state. Called by the client before any <see cref="GetAsync"/> or <see cref="SetAsync"/>.
    /// </summary>
    ValueTask<bool> LoadAsync(SyncIdentity? identity, CancellationToken cancellationToken = default);

    /// <summary>The stored resume point of <paramref name="topic"/>, or <see cref="ResumePoint.Start"/> when none is stored.</summary>
    ValueTask<ResumePoint> GetAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Stores each topic's resume point of <paramref name="points"/>; topics not listed keep theirs.</summary>
    ValueTask SetAsync(IReadOnlyDictionary<string, ResumePoint> points, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the state durable now, for a store that writes in the background (as <see cref="FileWatermarkStore"/>
    /// does): the resume points stored and the cache's documents as they are. The client calls it after it drops a
    /// topic's documents (a topic the token no longer covers) and when it is disposed. By default, nothing to do.
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
