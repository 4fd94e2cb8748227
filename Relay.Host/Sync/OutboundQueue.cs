using System.Threading.Channels;

namespace Relay.Host.Sync;

/// <summary>
/// A connection's frames on their way to its single send loop, bounded by bytes: a topic reader waits for space while
/// more than the budget is queued, which stops that connection's topic readers (they then fall behind into journal
/// catch-up) and nobody else. A frame larger than the budget still passes when the queue is empty. Replies skip that
/// wait, so they never wait behind updates; they have a budget of their own, which the receive loop waits on before
/// it reads the next request (<see cref="WaitForRepliesAsync"/>).
/// </summary>
internal sealed class OutboundQueue(int budgetBytes)
{
    private readonly Channel<OutboundFrame> _frames = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _space = new(1, 1);
    private readonly SemaphoreSlim _replySpace = new(1, 1);
    private long _queuedBytes;
    private long _replyBytes;
    private long _written;
    private long _droppedThrough;

    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    public ChannelReader<OutboundFrame> Reader => _frames.Reader;

    /// <summary>Waits until a frame of <paramref name="bytes"/> fits the budget (or the queue is empty).</summary>
    public async ValueTask WaitForSpaceAsync(int bytes, CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _queuedBytes) > 0 && Interlocked.Read(ref _queuedBytes) + bytes > budgetBytes)
        {
            await _space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits while the replies queued hold more than the budget: a client that sends requests and reads none of the
    /// answers then stops being read (its requests back up into TCP, on its side) instead of growing this queue until
    /// the send timeout gives up on it.
    /// </summary>
    public async ValueTask WaitForRepliesAsync(CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _replyBytes) > budgetBytes)
        {
            await _replySpace.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Queues a frame whatever the budget; false once the connection is closing.</summary>
    public bool TryWrite(OutboundFrame frame)
    {
        frame = frame with { Sequence = Interlocked.Increment(ref _written) };
        Count(frame, frame.Bytes.Length);
        if (_frames.Writer.TryWrite(frame))
        {
            return true;
        }
        Count(frame, -frame.Bytes.Length);
        return false;
    }

    /// <summary>Queues a frame whatever the budget: replies and the final close must not wait behind updates.</summary>
    public void WriteNow(OutboundFrame frame) => TryWrite(frame with { Reply = true });

    /// <summary>
    /// Every frame queued so far is dropped rather than sent (<see cref="IsDropped"/>): the connection ends, and what
    /// comes next (its error and close) should not wait behind them.
    /// </summary>
    public void DropQueued() => Interlocked.Exchange(ref _droppedThrough, Interlocked.Read(ref _written));

    /// <summary>Whether the send loop drops <paramref name="frame"/> (a close is always sent).</summary>
    public bool IsDropped(OutboundFrame frame) => frame.Close is null && frame.Sequence <= Interlocked.Read(ref _droppedThrough);

    /// <summary>Called by the send loop once a frame is on the wire.</summary>
    public void Sent(OutboundFrame frame)
    {
        Count(frame, -frame.Bytes.Length);
        Signal(_space);
        if (frame.Reply)
        {
            Signal(_replySpace);
        }
    }

    private void Count(OutboundFrame frame, long bytes)
    {
        Interlocked.Add(ref _queuedBytes, bytes);
        if (frame.Reply)
        {
            Interlocked.Add(ref _replyBytes, bytes);
        }
    }

    private static void Signal(SemaphoreSlim waiter)
    {
        if (waiter.CurrentCount == 0)
        {
            waiter.Release();
        }
    }

    /// <summary>Drops every frame not yet sent: the connection is ending and they would only wait.</summary>
    public void Discard()
    {
        while (_frames.Reader.TryRead(out var frame))
        {
            Sent(frame);
        }
    }

    public void Complete() => _frames.Writer.TryComplete();
}
