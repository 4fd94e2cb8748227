using Relay.Core.Journal;

namespace Relay.Core.Topics;

/// <summary>
/// One topic in memory: its head watermark and a bounded ring of its recent events. The feed is the only writer and
/// appends strictly head + 1. Readers read the ring from their own cursor; only a reader at the head is known to the
/// log, by the <see cref="TopicWaiter"/> it leaves until the next append wakes it. So an append wakes each waiting
/// reader once and never waits for one, and a reader too slow for the ring simply finds its cursor evicted and catches
/// up from the journal.
/// </summary>
public sealed class TopicLog
{
    private readonly Lock _gate = new();
    private readonly EventRing _ring;
    private long _head;
    private string? _epoch;
    private long _generation;
    private HashSet<TopicWaiter> _waiting = [];
    private HashSet<TopicWaiter>? _spare = [];

    internal TopicLog(string topic, long head, string? epoch, TopicLogOptions options)
    {
        Topic = topic;
        _head = head;
        _epoch = epoch;
        _ring = new EventRing(options.RingCapacity, options.RingMaxBytes);
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The newest watermark in memory: every event up to it has been appended (or was before this relay started).</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>
    /// The topic's epoch as this log last read it from the database; null until known (a log created by the feed for a
    /// topic it had not seen). A reader of another epoch is stale: the database was restored or moved.
    /// </summary>
    public string? Epoch => Volatile.Read(ref _epoch);

    /// <summary>Events and bytes held by the ring.</summary>
    public (int Events, int Bytes) RingSize
    {
        get
        {
            lock (_gate)
            {
                return (_ring.Count, _ring.Bytes);
            }
        }
    }

    /// <summary>Appends events that continue the head, in order, and wakes every waiting reader once.</summary>
    /// <exception cref="InvalidOperationException">An event does not continue the head: the caller missed or repeated one.</exception>
    internal void Append(IReadOnlyList<JournalEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        HashSet<TopicWaiter>? woken;
        lock (_gate)
        {
            foreach (var journalEvent in events)
            {
                if (journalEvent.Watermark != _head + 1)
                {
                    throw new InvalidOperationException(
                        $"{Topic}: watermark {journalEvent.Watermark} does not follow the head {_head}");
                }
                _ring.Add(journalEvent);
                Volatile.Write(ref _head, journalEvent.Watermark);
            }
            woken = TakeWaiting();
        }
        Wake(woken);
    }

    /// <summary>
    /// Moves the head past events that can no longer be read (pruned before this relay saw them). The ring restarts
    /// empty so it stays contiguous; readers behind find their cursor evicted and learn from the journal.
    /// </summary>
    internal void SkipTo(long head)
    {
        HashSet<TopicWaiter>? woken;
        lock (_gate)
        {
            if (head <= _head)
            {
                return;
            }
            _ring.Clear();
            Volatile.Write(ref _head, head);
            woken = TakeWaiting();
        }
        Wake(woken);
    }

    /// <summary>
    /// Takes in the topic's epoch as read from the database: learns it if it did not know it; starts over at the
    /// database's head, empty, when it changed (the database was restored or moved under this relay, and a DBA ran
    /// <c>relay.reset_epoch</c>), waking every reader so that those of the old epoch find out. True when it started over.
    /// A head lower than this log's is not a reason: a snapshot may not see yet a commit the feed already handed over.
    /// </summary>
    /// <param name="epoch">The epoch read.</param>
    /// <param name="head">The database's head, where the log starts over.</param>
    /// <param name="reset">
    /// A <c>relay.reset_epoch</c> gave it: a log that never learnt its epoch (created by the feed's first event) starts
    /// over too, for its events may be of a topic dropped and created again since.
    /// </param>
    internal bool Adopt(string epoch, long head, bool reset = false)
    {
        HashSet<TopicWaiter>? woken;
        lock (_gate)
        {
            if ((_epoch is null && !reset) || _epoch == epoch)
            {
                Volatile.Write(ref _epoch, epoch);
                return false;
            }
            _ring.Clear();
            Volatile.Write(ref _epoch, epoch);
            Volatile.Write(ref _head, head);
            _generation++;
            woken = TakeWaiting();
        }
        Wake(woken);
        return true;
    }

    /// <summary>
    /// The head, and how many times this log started over (<see cref="Adopt"/>), read together: what a read of the
    /// database taken now is measured against. A log that started over has a lower head, which says nothing of what a
    /// read taken before it saw.
    /// </summary>
    internal (long Head, long Generation) Position()
    {
        lock (_gate)
        {
            return (_head, _generation);
        }
    }

    /// <summary>Copies held events after <paramref name="after"/>; false when they are no longer (or not yet) held.</summary>
    internal bool TryRead(long after, int maxEvents, int maxBytes, List<JournalEvent> into)
    {
        lock (_gate)
        {
            return after < _head && _ring.TryCopy(after, maxEvents, maxBytes, into);
        }
    }

    /// <summary>
    /// Whether <paramref name="repeat"/>, an event at or below the head, is not the event this log holds at its watermark:
    /// the journal was rewritten under the relay (a restored database). False when the ring no longer holds it.
    /// </summary>
    internal bool Contradicts(JournalEvent repeat)
    {
        lock (_gate)
        {
            return _ring.At(repeat.Watermark) is { } held && (held.DocKey != repeat.DocKey || held.DocVersion != repeat.DocVersion || held.Tombstone != repeat.Tombstone);
        }
    }

    /// <summary>
    /// Whether this log can tell what happened to a pointer-mode document since <paramref name="after"/>, read in its
    /// <paramref name="generation"/> (<see cref="Position"/>): true when the ring holds every event after it, with
    /// <paramref name="newest"/> the document's newest held event without a payload (null when none is held); false
    /// when events after <paramref name="after"/> were evicted, or the log started over since.
    /// </summary>
    internal bool TryFindNewest(string docKey, long after, long generation, out JournalEvent? newest)
    {
        lock (_gate)
        {
            var covered = _generation == generation && (after >= _head || (_ring.Count > 0 && after + 1 >= _ring.First));
            newest = covered && _ring.Count > 0 ? _ring.NewestWithoutPayload(docKey) : null;
            return covered;
        }
    }

    /// <summary>
    /// Waits, with <paramref name="waiter"/>, until the head is past <paramref name="cursor"/> or the epoch is no longer
    /// <paramref name="epoch"/>; at once when it already is. Ends with <see cref="OperationCanceledException"/> when the
    /// waiter's token is cancelled first. Every wake-up follows a change made after the waiter was recorded (an append, a
    /// skip or a new epoch), each of which moves the head past any cursor at the head or changes the epoch.
    /// </summary>
    internal ValueTask WaitPastAsync(long cursor, string epoch, TopicWaiter waiter)
    {
        ValueTask wait;
        lock (_gate)
        {
            if (_head > cursor || (_epoch is not null && _epoch != epoch))
            {
                return ValueTask.CompletedTask;
            }
            wait = waiter.StartAsync();
            _waiting.Add(waiter);
        }
        waiter.CancelIfRequested();
        return wait;
    }

    /// <summary>Readers waiting at the head.</summary>
    internal int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Stops waking a waiter whose wait was cancelled, so that readers gone from an idle topic are not held.</summary>
    internal void Forget(TopicWaiter waiter)
    {
        lock (_gate)
        {
            _waiting.Remove(waiter);
        }
    }

    /// <summary>Under the gate: the waiting readers, who wait no more; none when no reader waits.</summary>
    private HashSet<TopicWaiter>? TakeWaiting()
    {
        if (_waiting.Count == 0)
        {
            return null;
        }
        var taken = _waiting;
        _waiting = _spare ?? [];
        _spare = null;
        return taken;
    }

    /// <summary>Outside the gate: wakes the readers taken, then keeps their set for the next time.</summary>
    private void Wake(HashSet<TopicWaiter>? woken)
    {
        if (woken is null)
        {
            return;
        }
        foreach (var waiter in woken)
        {
            waiter.Wake();
        }
        woken.Clear();
        lock (_gate)
        {
            _spare ??= woken;
        }
    }
}
