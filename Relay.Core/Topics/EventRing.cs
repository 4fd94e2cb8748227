using Relay.Core.Journal;

namespace Relay.Core.Topics;

/// <summary>
/// The most recent events of one topic, contiguous by watermark, bounded by count and bytes: adding past a bound
/// evicts the oldest. Not thread-safe; <see cref="TopicLog"/> guards it.
/// </summary>
internal sealed class EventRing(int capacity, int maxBytes)
{
    private readonly JournalEvent[] _events = new JournalEvent[capacity];
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
        _bytes += journalEvent.Size;
        while (_bytes > maxBytes && Count > 1)
        {
            Evict();
        }
    }

    public void Clear()
    {
        Array.Clear(_events);
        _start = 0;
        Count = 0;
        _bytes = 0;
    }

    /// <summary>
    /// Copies events after <paramref name="after"/> into <paramref name="into"/>, up to the bounds; false when the
    /// event after <paramref name="after"/> has been evicted (or was never held).
    /// </summary>
    public bool TryCopy(long after, int maxEvents, int maxBytes, List<JournalEvent> into)
    {
        if (Count == 0 || after + 1 < First)
        {
            return false;
        }
        var bytes = 0;
        for (var index = (int)(after + 1 - First); index < Count && into.Count < maxEvents; index++)
        {
            var journalEvent = _events[(_start + index) % _events.Length];
            bytes += journalEvent.Size;
            if (into.Count > 0 && bytes > maxBytes)
            {
                break;
            }
            into.Add(journalEvent);
        }
        return true;
    }

    private void Evict()
    {
        _bytes -= _events[_start].Size;
        _events[_start] = null!;
        _start = (_start + 1) % _events.Length;
        Count--;
    }
}
