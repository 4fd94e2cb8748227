using System.Collections.Concurrent;
using Relay.Core.Subscriptions;

namespace Relay.Host.Sync;

/// <summary>
/// Encoded update batches shared across connections: subscribers of a topic that are live read the same range from
/// the same ring, so each batch is serialized once per framing and filter, and every connection sends the same bytes.
/// Bounded by entries and by bytes: the oldest entries are dropped first. Readers a little behind the live ones miss
/// the cache and encode their own batch, which costs CPU, never correctness.
/// </summary>
internal sealed class BatchFrameCache
{
    private const int MaxEntries = 1024;
    private const long MaxBytes = 32 * 1024 * 1024;

    private readonly ConcurrentDictionary<BatchKey, Lazy<byte[]>> _frames = new();
    private readonly ConcurrentQueue<(BatchKey Key, int Bytes)> _order = new();
    private long _bytes;

    /// <summary>The bytes for a batch, encoding them from <paramref name="state"/> if nobody has yet.</summary>
    /// <remarks>A hit, what every live subscriber after the first gets, allocates nothing.</remarks>
    public byte[] GetOrEncode<TState>(BatchKey key, Func<TState, byte[]> encode, TState state)
    {
        if (_frames.TryGetValue(key, out var cached))
        {
            return cached.Value;
        }
        var created = false;
        var lazy = _frames.GetOrAdd(key, new Lazy<byte[]>(() =>
        {
            created = true;
            return encode(state);
        }));
        var frame = lazy.Value;
        if (created)
        {
            _order.Enqueue((key, frame.Length));
            Interlocked.Add(ref _bytes, frame.Length);
            while ((_order.Count > MaxEntries || Interlocked.Read(ref _bytes) > MaxBytes) && _order.TryDequeue(out var oldest))
            {
                _frames.TryRemove(oldest.Key, out _);
                Interlocked.Add(ref _bytes, -oldest.Bytes);
            }
        }
        return frame;
    }

    /// <summary>What makes two batches the same frame.</summary>
    /// <param name="Framing">The framing's name.</param>
    /// <param name="Topic">The topic.</param>
    /// <param name="Epoch">The topic's epoch: a restored database reuses watermarks.</param>
    /// <param name="After">The cursor before the batch.</param>
    /// <param name="Through">The cursor after it.</param>
    /// <param name="Phase">Replay, the batch that ends a replay (it names the topic caught up), or live.</param>
    /// <param name="Audience">Who may see which events (the filter), e.g. an organisation.</param>
    /// <param name="Fingerprint">The events the batch holds, by watermark and version (pointer mode skips per subscriber).</param>
    public readonly record struct BatchKey(string Framing, string Topic, string Epoch, long After, long Through, SubscriptionPhase Phase, string Audience, int Fingerprint)
    {
        /// <summary>A fingerprint of the events of a batch.</summary>
        public static int FingerprintOf(IReadOnlyList<Relay.Core.Journal.JournalEvent> events)
        {
            var hash = new HashCode();
            foreach (var journalEvent in events)
            {
                hash.Add(journalEvent.Watermark);
                hash.Add(journalEvent.DocVersion);
            }
            return hash.ToHashCode();
        }
    }
}
