using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>
/// Journal reads for subscribers catching up: at most <paramref name="concurrency"/> at once, whatever the number of
/// subscribers, taken in turns by topic (<see cref="TopicTurns"/>), and subscribers that read the same range at the same
/// time (a reconnect storm from one resume point) share one read. A shared read runs under its own lifetime: a
/// subscriber that gives up stops waiting, the read goes on for the others; a read whose turn comes when no subscriber
/// waits for it any more is not made.
/// </summary>
/// <param name="journal">The journal.</param>
/// <param name="concurrency">Most reads in flight; the rest wait their turn.</param>
public sealed class CatchUpReads(JournalReader journal, int concurrency)
{
    private readonly TopicTurns _slots = new(concurrency);
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, long After), SharedRead> _inFlight = [];

    /// <summary>
    /// The events of <paramref name="topic"/> after <paramref name="after"/>, at most <paramref name="maxEvents"/> and,
    /// past the first, at most <paramref name="maxBytes"/>; the list is shared and must not be changed.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<List<JournalEvent>> ReadAsync(string topic, long after, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        SharedRead? read;
        lock (_gate)
        {
            if (!_inFlight.TryGetValue((topic, after), out read))
            {
                // In line for a slot now, in call order; started on the pool so that it cannot finish (and leave the
                // map) before it is in the map.
                read = new SharedRead();
                var turn = _slots.EnterAsync(topic);
                var shared = read;
                read.Events = Task.Run(() => ReadSharedAsync(turn, shared, topic, after, maxEvents, maxBytes), CancellationToken.None);
                _inFlight[(topic, after)] = read;
            }
            read.Waiting++;
        }
        try
        {
            return await read.Events.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                read.Waiting--;
            }
        }
    }

    private async Task<List<JournalEvent>> ReadSharedAsync(Task turn, SharedRead read, string topic, long after, int maxEvents, int maxBytes)
    {
        await turn;
        try
        {
            lock (_gate)
            {
                if (read.Waiting == 0)
                {
                    // Everyone it was for left (unsubscribed, subscribed again elsewhere, disconnected): a client that
                    // subscribes in a loop from ever other points would otherwise queue reads nobody takes, and every
                    // other subscriber of the topic would wait behind them.
                    _inFlight.Remove((topic, after));
                    throw new OperationCanceledException("no subscriber waits for this read any more");
                }
            }
            return await journal.ReadAsync(topic, after, long.MaxValue, maxEvents, maxBytes);
        }
        finally
        {
            _slots.Leave();
            lock (_gate)
            {
                if (_inFlight.TryGetValue((topic, after), out var current) && current == read)
                {
                    _inFlight.Remove((topic, after));
                }
            }
        }
    }

    /// <summary>One read of a range and how many subscribers wait for it; changed under the gate.</summary>
    private sealed class SharedRead
    {
        public int Waiting;

        public Task<List<JournalEvent>> Events = null!;
    }
}
