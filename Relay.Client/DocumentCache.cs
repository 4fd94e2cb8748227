namespace Relay.Client;

/// <summary>
/// The documents a client holds, per topic, applied monotonically by <c>(doc_key, doc_version)</c>
/// (docs/protocol/WS_MAPPING.md §5.3): an update replaces what is held only when its version is newer, and a
/// tombstone removes the document (<see cref="Documents"/> no longer lists it) but remembers its version
/// (<see cref="Entries"/> holds the tombstone) until the client's watermark for the topic reaches the deletion's: no
/// older update can come from there on, and deletions do not pile up. It also remembers the watermark each entry was
/// applied at until the client's stored watermark reaches it, which a saved state keeps: a change applied past the
/// stored watermark (whose handler may not have finished) is raised again when the relay sends it again. Thread-safe. Pass one in
/// <see cref="RelayClientOptions.Cache"/> to start from documents kept elsewhere.
/// </summary>
public sealed class DocumentCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, CachedDocument>> _topics = new(StringComparer.Ordinal);
    // The watermark each entry was applied at, per topic, until the topic's stored watermark reaches it (a tombstone is
    // dropped then too).
    private readonly Dictionary<string, Dictionary<string, long>> _unconfirmed = new(StringComparer.Ordinal);

    /// <summary>
    /// Applies <paramref name="document"/> to <paramref name="topic"/> if it is newer than the version held.
    /// Returns whether it was applied; an equal or older version is ignored.
    /// </summary>
    public bool Apply(string topic, CachedDocument document) => Apply(topic, document, watermark: 0);

    /// <summary>Applies <paramref name="document"/>, received at <paramref name="watermark"/> (and remembered as applied there until the topic's stored watermark reaches it).</summary>
    internal bool Apply(string topic, CachedDocument document, long watermark)
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
            SetUnconfirmed(topic, document.DocKey, watermark);
            return true;
        }
    }

    /// <summary>The watermark <paramref name="docKey"/>'s entry was applied at, if the topic's stored watermark has not reached it yet.</summary>
    internal long? UnconfirmedWatermark(string topic, string docKey)
    {
        lock (_lock)
        {
            return _unconfirmed.TryGetValue(topic, out var entries) && entries.TryGetValue(docKey, out var watermark) ? watermark : null;
        }
    }

    /// <summary>
    /// The entry held for <paramref name="docKey"/> if it is of <paramref name="docVersion"/> and was applied past
    /// <paramref name="watermark"/> (the point the relay replays from), without the topic's stored watermark reaching it since:
    /// a change whose handler may not have finished, to raise again.
    /// </summary>
    internal CachedDocument? HeldPast(string topic, string docKey, long docVersion, long watermark)
    {
        lock (_lock)
        {
            return _unconfirmed.TryGetValue(topic, out var entries) && entries.TryGetValue(docKey, out var appliedAt) && appliedAt > watermark
                && _topics.TryGetValue(topic, out var documents) && documents.TryGetValue(docKey, out var held) && held.DocVersion == docVersion
                ? held
                : null;
        }
    }

    /// <summary>Records the watermark an entry restored from a saved state was applied at.</summary>
    internal void RestoreUnconfirmed(string topic, string docKey, long watermark)
    {
        lock (_lock)
        {
            if (_topics.TryGetValue(topic, out var documents) && documents.ContainsKey(docKey))
            {
                SetUnconfirmed(topic, docKey, watermark);
            }
        }
    }

    /// <summary>
    /// The topic's watermark <paramref name="watermark"/> is stored: forgets where its entries at or below it were applied,
    /// and drops its tombstones there (no older update of them can come from there on).
    /// </summary>
    internal void ConfirmThrough(string topic, long watermark)
    {
        lock (_lock)
        {
            if (!_unconfirmed.TryGetValue(topic, out var entries))
            {
                return;
            }
            foreach (var docKey in entries.Where(pair => pair.Value <= watermark).Select(pair => pair.Key).ToList())
            {
                entries.Remove(docKey);
                if (_topics[topic].TryGetValue(docKey, out var held) && held.Deleted)
                {
                    _topics[topic].Remove(docKey);
                }
            }
        }
    }

    private void SetUnconfirmed(string topic, string docKey, long watermark)
    {
        if (!_unconfirmed.TryGetValue(topic, out var entries))
        {
            entries = new Dictionary<string, long>(StringComparer.Ordinal);
            _unconfirmed[topic] = entries;
        }
        entries[docKey] = watermark;
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
    /// visible. A tombstone held is returned too while the topic's stored watermark has not reached it (its handler may
    /// not have finished: a replay would have raised it again, and the re-hydration replaces the replay); others are
    /// dropped without being returned (their deletion was applied and confirmed).
    /// </summary>
    public IReadOnlyList<CachedDocument> Replace(string topic, IEnumerable<CachedDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var fresh = documents.ToDictionary(document => document.DocKey, StringComparer.Ordinal);
        lock (_lock)
        {
            var unconfirmed = _unconfirmed.GetValueOrDefault(topic);
            var removed = _topics.TryGetValue(topic, out var held)
                ? held.Values.Where(document => !fresh.ContainsKey(document.DocKey)
                    && (!document.Deleted || unconfirmed?.GetValueOrDefault(document.DocKey) > 0)).ToList()
                : [];
            _topics[topic] = fresh;
            _unconfirmed.Remove(topic);
            foreach (var tombstone in fresh.Values.Where(document => document.Deleted))
            {
                // Dropped with the next watermark stored.
                SetUnconfirmed(topic, tombstone.DocKey, 0);
            }
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
            _unconfirmed.Clear();
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
