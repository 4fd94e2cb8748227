using System.Threading.Channels;

namespace Relay.Host.Sync;

/// <summary>
/// A connection's frames on their way to its single send loop, bounded by bytes: a topic reader waits for space while
/// more than the budget is queued, which stops that connection's topic readers (they then fall behind into journal
/// catch-up) and nobody else. A frame larger than the budget still passes when the queue is empty.
/// </summary>
internal sealed class OutboundQueue(int budgetBytes)
{
    private readonly Channel<OutboundFrame> _frames = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _space = new(1, 1);
    private long _queuedBytes;

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

    /// <summary>Queues a frame whatever the budget; false once the connection is closing.</summary>
    public bool TryWrite(OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, frame.Bytes.Length);
        if (_frames.Writer.TryWrite(frame))
        {
            return true;
        }
        Interlocked.Add(ref _queuedBytes, -frame.Bytes.Length);
        return false;
    }

    /// <summary>Queues a frame whatever the budget: replies and the final close must not wait behind updates.</summary>
    public void WriteNow(OutboundFrame frame) => TryWrite(frame);

    /// <summary>Called by the send loop once a frame is on the wire.</summary>
    public void Sent(OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, -frame.Bytes.Length);
        if (_space.CurrentCount == 0)
        {
            _space.Release();
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
