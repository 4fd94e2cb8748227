namespace Relay.Client;

/// <summary>
/// The documents a client holds, per topic, applied monotonically by <c>(doc_key, doc_version)</c>
/// (docs/protocol/WS_MAPPING.md §5.3): an update replaces what is held only when its version is newer, and a
/// tombstone removes the document (<see cref="Documents"/> no longer lists it) but remembers its version
/// (<see cref="Entries"/> holds the tombstone). Thread-safe. Pass one in
/// <see cref="RelayClientOptions.Cache"/> to start from documents kept elsewhere.
/// </summary>
public sealed class DocumentCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, CachedDocument>> _topics = new(StringComparer.Ordinal);

    /// <summary>
    /// Applies <paramref name="document"/> to <paramref name="topic"/> if it is newer than the version held.
    /// Returns whether it was applied; an equal or older version is ignored.
    /// </summary>
    public bool Apply(string topic, CachedDocument document)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(document);
        lock (_lock)
        {
            var documents = Topic(topic);
            if (documents.TryGetValue(document.DocKey, out var held) && held.DocVersion >= document.DocVersion)
            {
                return false;
            }
            documents[document.DocKey] = document;
            return true;
        }
    }

    /// <summary>The version held for <paramref name="docKey"/> (a tombstone's too), or null when none is.</summary>
    public long? VersionOf(string topic, string docKey)
    {
        lock (_lock)
        {
            return _topics.TryGetValue(topic, out var documents) && documents.TryGetValue(docKey, out var held) ? held.DocVersion : null;
        }
    }

    /// <summary>
    /// Replaces every entry of <paramref name="topic"/> with <paramref name="documents"/>, as a re-hydration does, and
    /// returns the live documents it held that <paramref name="documents"/> does not list: deleted since, or no longer
    /// visible. Tombstones held are dropped without being returned (their deletion was applied already).
    /// </summary>
    public IReadOnlyList<CachedDocument> Replace(string topic, IEnumerable<CachedDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var fresh = documents.ToDictionary(document => document.DocKey, StringComparer.Ordinal);
        lock (_lock)
        {
            var removed = _topics.TryGetValue(topic, out var held)
                ? held.Values.Where(document => !document.Deleted && !fresh.ContainsKey(document.DocKey)).ToList()
                : [];
            _topics[topic] = fresh;
            return removed;
        }
    }

    /// <summary>Drops every entry of every topic and returns the live documents it held, with their topics.</summary>
    internal List<(string Topic, CachedDocument Document)> Clear()
    {
        lock (_lock)
        {
            var dropped = _topics.SelectMany(topic => topic.Value.Values.Where(document => !document.Deleted).Select(document => (topic.Key, document))).ToList();
            _topics.Clear();
            return dropped;
        }
    }

    /// <summary>The topics that have entries (or were replaced), in no particular order.</summary>
    public IReadOnlyCollection<string> Topics
    {
        get
        {
            lock (_lock)
            {
                return [.. _topics.Keys];
            }
        }
    }

    /// <summary>A snapshot of <paramref name="topic"/>'s documents by doc_key: the live ones; a deleted document is not listed.</summary>
    public IReadOnlyDictionary<string, CachedDocument> Documents(string topic) => Snapshot(topic, tombstones: false);

    /// <summary>
    /// A snapshot of <paramref name="topic"/>'s entries by doc_key, tombstones included (<see cref="CachedDocument.Deleted"/>):
    /// what a <see cref="IWatermarkStore"/> saves, so that an older update cannot bring a deleted document back after a restart.
    /// </summary>
    public IReadOnlyDictionary<string, CachedDocument> Entries(string topic) => Snapshot(topic, tombstones: true);

    private Dictionary<string, CachedDocument> Snapshot(string topic, bool tombstones)
    {
        lock (_lock)
        {
            var snapshot = new Dictionary<string, CachedDocument>(StringComparer.Ordinal);
            if (_topics.TryGetValue(topic, out var documents))
            {
                foreach (var (docKey, document) in documents)
                {
                    if (tombstones || !document.Deleted)
                    {
                        snapshot[docKey] = document;
                    }
                }
            }
            return snapshot;
        }
    }

    private Dictionary<string, CachedDocument> Topic(string topic)
    {
        if (!_topics.TryGetValue(topic, out var documents))
        {
            documents = new Dictionary<string, CachedDocument>(StringComparer.Ordinal);
            _topics[topic] = documents;
        }
        return documents;
    }
}
