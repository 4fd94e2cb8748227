using Relay.Core.Journal;

namespace Relay.Core.Topics;

/// <summary>
/// The most recent events of one topic, contiguous by watermark, bounded by count and bytes: adding past a bound
/// evicts the oldest. It also indexes, by doc_key, the newest held event without a payload (pointer events and
/// tombstones), so that a cached pointer resolution can be checked for freshness. Not thread-safe; <see cref="TopicLog"/>
/// guards it.
/// </summary>
internal sealed class EventRing(int capacity, int maxBytes)
{
    private readonly JournalEvent[] _events = new JournalEvent[capacity];
    private readonly Dictionary<string, JournalEvent> _newest = new(StringComparer.Ordinal);
    private int _start;
    private int _bytes;

    public int Count { get; private set; }

    public int Bytes => _bytes;

    /// <summary>The oldest watermark held; meaningless when empty.</summary>
    public long First => _events[_start].Watermark;

    public void Add(JournalEvent journalEvent)
    {
        if (Count == _events.Length)
        {
            Evict();
        }
        _events[(_start + Count) % _events.Length] = journalEvent;
        Count++;
        if (journalEvent.Payload is null)
        {
            _newest[journalEvent.DocKey] = journalEvent;
        }
        _bytes += journalEvent.Size;
        while (_bytes > maxBytes && Count > 1)
        {
            Evict();
        }
    }

    public void Clear()
    {
        Array.Clear(_events);
        _newest.Clear();
        _start = 0;
        Count = 0;
        _bytes = 0;
    }

    /// <summary>
    /// Copies events after <paramref name="after"/> into <paramref name="into"/>, up to the bounds (<paramref name="maxBytes"/>
    /// as sent, as <see cref="JournalReader.ReadAsync"/> counts them); false when the event after <paramref name="after"/>
    /// has been evicted (or was never held).
    /// </summary>
    public bool TryCopy(long after, int maxEvents, int maxBytes, List<JournalEvent> into)
    {
        if (Count == 0 || after + 1 < First)
        {
            return false;
        }
        var (sent, held) = (0, 0);
        for (var index = (int)(after + 1 - First); index < Count && into.Count < maxEvents; index++)
        {
            var journalEvent = _events[(_start + index) % _events.Length];
            (sent, held) = (sent + journalEvent.SentSize, held + journalEvent.Size);
            if (into.Count > 0 && (sent > maxBytes || held > JournalEvent.MaxHeldBytesPerBatch))
            {
                break;
            }
            into.Add(journalEvent);
        }
        return true;
    }

    /// <summary>The event at <paramref name="watermark"/>, if the ring holds it.</summary>
    public JournalEvent? At(long watermark) =>
        Count > 0 && watermark >= First && watermark - First < Count ? _events[(_start + (int)(watermark - First)) % _events.Length] : null;

    /// <summary>The newest held event of <paramref name="docKey"/> without a payload, if any.</summary>
    public JournalEvent? NewestWithoutPayload(string docKey) => _newest.GetValueOrDefault(docKey);

    private void Evict()
    {
        var oldest = _events[_start];
        if (oldest.Payload is null && _newest.TryGetValue(oldest.DocKey, out var newest) && newest == oldest)
        {
            _newest.Remove(oldest.DocKey);
        }
        _bytes -= oldest.Size;
        _events[_start] = null!;
        _start = (_start + 1) % _events.Length;
        Count--;
    }
}
