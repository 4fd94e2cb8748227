using System.Threading.Channels;

namespace Relay.Host.Sync;

/// <summary>
/// A connection's frames on their way to its single send loop, bounded by bytes: a writer waits while more than the
/// budget is queued, which stops that connection's topic readers (they then fall behind into journal catch-up) and
/// nobody else. A frame larger than the budget still passes when the queue is empty.
/// </summary>
internal sealed class OutboundQueue(int budgetBytes)
{
    private readonly Channel<OutboundFrame> _frames = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _space = new(1, 1);
    private long _queuedBytes;

    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    public ChannelReader<OutboundFrame> Reader => _frames.Reader;

    /// <summary>Queues a frame, waiting while the budget is spent.</summary>
    public async ValueTask WriteAsync(OutboundFrame frame, CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _queuedBytes) > 0 && Interlocked.Read(ref _queuedBytes) + frame.Bytes.Length > budgetBytes)
        {
            await _space.WaitAsync(cancellationToken);
        }
        Interlocked.Add(ref _queuedBytes, frame.Bytes.Length);
        if (!_frames.Writer.TryWrite(frame))
        {
            throw new OperationCanceledException("the connection is closing");
        }
    }

    /// <summary>Queues a frame whatever the budget: replies and the final close must not wait behind updates.</summary>
    public void WriteNow(OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, frame.Bytes.Length);
        _frames.Writer.TryWrite(frame);
    }

    /// <summary>Called by the send loop once a frame is on the wire.</summary>
    public void Sent(OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, -frame.Bytes.Length);
        if (_space.CurrentCount == 0)
        {
            _space.Release();
        }
    }

    public void Complete() => _frames.Writer.TryComplete();
}
