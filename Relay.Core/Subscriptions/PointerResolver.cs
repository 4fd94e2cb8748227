using Npgsql;
using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Core.Subscriptions;

/// <summary>
/// Reads the current document for pointer-mode events (whose journal rows hold no payload) through
/// <c>relay.read_documents</c>, one read per batch for the documents nobody has read yet. Reads are shared: a live batch
/// reaching a thousand subscribers is read once, by documents in flight and by a cache of recent reads. A cached read
/// is only used while its topic log shows no later event of the document, so nobody is ever served a version older
/// than the current one (CONTRACT §3).
/// </summary>
/// <remarks>
/// A shared read runs under its own lifetime, never a caller's: a caller that gives up (its client unsubscribed or
/// left) stops waiting with its own token and the read goes on for the others.
/// <para>
/// The cache holds at most <see cref="CacheCapacity"/> reads and <c>cacheBytes</c> of payload, whichever is reached
/// first, and lets go of the oldest reads first: a pointer topic's documents may each be up to its
/// <c>max_payload_bytes</c>, so a count alone would not bound the memory.
/// </para>
/// </remarks>
/// <param name="dataSource">Where the documents are read.</param>
/// <param name="cacheBytes">Most payload bytes the cache of recent reads holds (<c>Relay:TopicLogs:PointerCacheBytes</c>).</param>
public sealed partial class PointerResolver(NpgsqlDataSource dataSource, long cacheBytes)
{
    private const int CacheCapacity = 20_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, string DocKey), Task<Dictionary<string, Read>>> _inFlight = [];
    private readonly Dictionary<(string Topic, string DocKey), Read> _cache = [];
    private readonly Queue<((string Topic, string DocKey) Key, Read Read)> _order = new();
    private long _orderBytes;

    /// <summary>The longest wait between two reads of documents whose commit is not visible yet.</summary>
    private static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>How long documents are read again while their events' commit is not yet visible to the read. 30 s.</summary>
    internal TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Payload bytes held by the cache's reads (for tests).</summary>
    internal long CachedBytes
    {
        get
        {
            lock (_gate)
            {
                return _orderBytes;
            }
        }
    }

    /// <summary>
    /// Replaces each pointer event of <paramref name="log"/>'s topic by its document's current state: the current
    /// version, payload and organisation, or a tombstone where the document is gone. Other events pass through.
    /// </summary>
    /// <param name="log">The topic's log, which tells whether a cached read is still current.</param>
    /// <param name="events">Events of that topic.</param>
    /// <param name="cancellationToken">Stops this caller's wait; a shared read goes on for the others.</param>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<IReadOnlyList<JournalEvent>> ResolveAsync(TopicLog log, IReadOnlyList<JournalEvent> events, CancellationToken cancellationToken = default)
    {
        var resolved = new JournalEvent[events.Count];
        var waiting = new List<(int Index, Task<Dictionary<string, Read>> Reads, bool Joined)>();
        lock (_gate)
        {
            Dictionary<string, List<int>>? toRead = null;
            for (var i = 0; i < events.Count; i++)
            {
                var journalEvent = events[i];
                if (!journalEvent.IsPointer)
                {
                    resolved[i] = journalEvent;
                }
                else if (_cache.TryGetValue((log.Topic, journalEvent.DocKey), out var cached) && cached.IsCurrentFor(log, journalEvent))
                {
                    resolved[i] = cached.Resolve(journalEvent);
                }
                else if (_inFlight.TryGetValue((log.Topic, journalEvent.DocKey), out var reading))
                {
                    waiting.Add((i, reading, true));
                }
                else
                {
                    toRead ??= new(StringComparer.Ordinal);
                    if (!toRead.TryGetValue(journalEvent.DocKey, out var indexes))
                    {
                        toRead[journalEvent.DocKey] = indexes = [];
                    }
                    indexes.Add(i);
                }
            }
            if (toRead is not null)
            {
                var read = StartSharedReadAsync(log, [.. toRead.Select(pair => events[pair.Value[^1]])]);
                waiting.AddRange(toRead.Values.SelectMany(indexes => indexes).Select(index => (index, read, false)));
            }
        }
        foreach (var (index, reads, joined) in waiting)
        {
            var journalEvent = events[index];
            var read = (await reads.WaitAsync(cancellationToken))[journalEvent.DocKey];
            if (joined && !read.IsCurrentFor(log, journalEvent))
            {
                // The read joined in flight started before this event was visible: read once more, and use that.
                Task<Dictionary<string, Read>> again;
                lock (_gate)
                {
                    again = _inFlight.TryGetValue((log.Topic, journalEvent.DocKey), out var newer) && newer != reads
                        ? newer
                        : StartSharedReadAsync(log, [journalEvent]);
                }
                read = (await again.WaitAsync(cancellationToken))[journalEvent.DocKey];
            }
            resolved[index] = read.Resolve(journalEvent);
        }
        return resolved;
    }

    /// <summary>
    /// Starts one read of the documents of <paramref name="events"/> (one event per document), shared by every caller
    /// that joins it and completing for all of them whatever happens to the caller that started it. Called under the
    /// gate; the documents are cached once read.
    /// </summary>
    private Task<Dictionary<string, Read>> StartSharedReadAsync(TopicLog log, List<JournalEvent> events)
    {
        var result = new TaskCompletionSource<Dictionary<string, Read>>(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var journalEvent in events)
        {
            _inFlight[(log.Topic, journalEvent.DocKey)] = result.Task;
        }
        var (readAtHead, generation) = log.Position();
        _ = Task.Run(async () =>
        {
            Dictionary<string, Read>? reads = null;
            try
            {
                var documents = await ReadCurrentAsync(log.Topic, events);
                reads = events.ToDictionary(e => e.DocKey, e => new Read(documents.GetValueOrDefault(e.DocKey), readAtHead, generation), StringComparer.Ordinal);
            }
            catch (Exception e)
            {
                Finish(log.Topic, events, result.Task, null);
                result.SetException(e);
                return;
            }
            Finish(log.Topic, events, result.Task, reads);
            result.SetResult(reads);
        });
        return result.Task;
    }

    /// <summary>Ends a shared read: no longer in flight, and cached when it succeeded.</summary>
    private void Finish(string topic, List<JournalEvent> events, Task<Dictionary<string, Read>> read, Dictionary<string, Read>? reads)
    {
        lock (_gate)
        {
            foreach (var journalEvent in events)
            {
                var key = (topic, journalEvent.DocKey);
                if (_inFlight.TryGetValue(key, out var current) && current == read)
                {
                    _inFlight.Remove(key);
                }
                if (reads is not null)
                {
                    Remember(key, reads[journalEvent.DocKey]);
                }
            }
        }
    }

    private void Remember((string, string) key, Read read)
    {
        _cache[key] = read;
        _order.Enqueue((key, read));
        _orderBytes += read.PayloadBytes;
        while (_order.Count > CacheCapacity || _orderBytes > cacheBytes)
        {
            var (oldKey, oldRead) = _order.Dequeue();
            _orderBytes -= oldRead.PayloadBytes;
            if (_cache.TryGetValue(oldKey, out var current) && ReferenceEquals(current, oldRead))
            {
                _cache.Remove(oldKey);
            }
        }
    }
}
