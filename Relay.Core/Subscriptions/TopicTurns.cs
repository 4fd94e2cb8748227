namespace Relay.Core.Subscriptions;

/// <summary>
/// A fixed number of slots handed out in turns by topic: while slots are short, each topic with waiters gets the next
/// free slot in rotation, and a topic's own waiters go first come first served. A reconnect storm on one topic then
/// takes its share of the catch-up reads, not all of them: a subscriber of another topic waits for about one read per
/// busy topic, not for every read queued before it. Written here because <see cref="SemaphoreSlim"/> only queues in
/// arrival order and no library at hand partitions a semaphore by key.
/// </summary>
internal sealed class TopicTurns(int slots)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Queue<TaskCompletionSource>> _waiting = new(StringComparer.Ordinal);
    private readonly Queue<string> _turns = new();
    private int _free = slots;

    /// <summary>Completes once <paramref name="topic"/> holds a slot; queued in call order, so call it before going async.</summary>
    public Task EnterAsync(string topic)
    {
        lock (_gate)
        {
            if (_free > 0)
            {
                _free--;
                return Task.CompletedTask;
            }
            if (!_waiting.TryGetValue(topic, out var waiters))
            {
                _waiting[topic] = waiters = new Queue<TaskCompletionSource>();
                _turns.Enqueue(topic);
            }
            var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Enqueue(turn);
            return turn.Task;
        }
    }

    /// <summary>Gives a slot back: to the first waiter of the topic whose turn it is, else to the pool.</summary>
    public void Leave()
    {
        TaskCompletionSource? next = null;
        lock (_gate)
        {
            if (_turns.TryDequeue(out var topic))
            {
                var waiters = _waiting[topic];
                next = waiters.Dequeue();
                if (waiters.Count > 0)
                {
                    _turns.Enqueue(topic);
                }
                else
                {
                    _waiting.Remove(topic);
                }
            }
            else
            {
                _free++;
            }
        }
        next?.SetResult();
    }
}
