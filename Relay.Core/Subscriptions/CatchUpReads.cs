using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>
/// Journal reads for subscribers catching up: at most <paramref name="concurrency"/> at once, whatever the number of
/// subscribers, taken in turns by topic (<see cref="TopicTurns"/>), and subscribers that read the same range at the same
/// time (a reconnect storm from one resume point) share one read. A shared read runs under its own lifetime: a
/// subscriber that gives up stops waiting, the read goes on for the others.
/// </summary>
/// <param name="journal">The journal.</param>
/// <param name="concurrency">Most reads in flight; the rest wait their turn.</param>
public sealed class CatchUpReads(JournalReader journal, int concurrency)
{
    private readonly TopicTurns _slots = new(concurrency);
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, long After), Task<List<JournalEvent>>> _inFlight = [];

    /// <summary>
    /// The events of <paramref name="topic"/> after <paramref name="after"/>, at most <paramref name="maxEvents"/> and,
    /// past the first, at most <paramref name="maxBytes"/>; the list is shared and must not be changed.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public Task<List<JournalEvent>> ReadAsync(string topic, long after, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        Task<List<JournalEvent>>? read;
        lock (_gate)
        {
            if (!_inFlight.TryGetValue((topic, after), out read))
            {
                // In line for a slot now, in call order; started on the pool so that it cannot finish (and leave the
                // map) before it is in the map.
                var turn = _slots.EnterAsync(topic);
                read = Task.Run(() => ReadSharedAsync(turn, topic, after, maxEvents, maxBytes), CancellationToken.None);
                _inFlight[(topic, after)] = read;
            }
        }
        return read.WaitAsync(cancellationToken);
    }

    private async Task<List<JournalEvent>> ReadSharedAsync(Task turn, string topic, long after, int maxEvents, int maxBytes)
    {
        await turn;
        try
        {
            return await journal.ReadAsync(topic, after, long.MaxValue, maxEvents, maxBytes);
        }
        finally
        {
            _slots.Leave();
            lock (_gate)
            {
                _inFlight.Remove((topic, after));
            }
        }
    }
}
