using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    private async Task SendLoopAsync()
    {
        var timeout = Context.Options.SendTimeout;
        await foreach (var frame in _queue.Reader.ReadAllAsync())
        {
            if (_queue.IsDropped(frame))
            {
                _queue.Sent(frame);
                continue;
            }
            try
            {
                if (frame.Close is { } status)
                {
                    await _socket.CloseOutputAsync(status, frame.Reason, CancellationToken.None).WaitAsync(timeout);
                    // Give the client a moment to answer the close, then let go.
                    _lifetime.CancelAfter(s_closeHandshake);
                    return;
                }
                // Not cancelled on timeout: cancelling a WebSocket send aborts the socket, and a slow client is told why.
                var sending = _socket.SendAsync(frame.Bytes.AsMemory(), frame.Type, endOfMessage: true, CancellationToken.None);
                if (!sending.IsCompletedSuccessfully)
                {
                    var pending = sending.AsTask();
                    if (!await CompletesWithinAsync(pending, timeout))
                    {
                        await DisconnectSlowConsumerAsync(pending, frame);
                        return;
                    }
                }
                _queue.Sent(frame);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException or TimeoutException)
            {
                _socket.Abort();
                return;
            }
        }
    }

    /// <summary>
    /// A send blocked past <see cref="SyncOptions.SendTimeout"/>: updates stop, and the client gets <c>SLOW_CONSUMER</c>
    /// and close 1013 if it reads again within a bounded grace (WS_MAPPING §8); if it does not, the socket is aborted.
    /// </summary>
    private async Task DisconnectSlowConsumerAsync(Task stuck, OutboundFrame stuckFrame)
    {
        Log.SlowConsumer(Context.Logger, Context.Options.SendTimeout, ClientName);
        Context.Metrics.SlowConsumerDisconnects.Add(1);
        _queue.Complete();
        _queue.Sent(stuckFrame);
        _queue.Discard();
        var error = Framing.EncodePush(Errors.Create(ErrorCode.SlowConsumer, $"a send was blocked for {Context.Options.SendTimeout}; reconnect and resume"));
        try
        {
            if (await CompletesWithinAsync(stuck, s_closeHandshake)
                && await CompletesWithinAsync(_socket.SendAsync(error.AsMemory(), Framing.MessageType, endOfMessage: true, CancellationToken.None).AsTask(), s_closeHandshake)
                && await CompletesWithinAsync(_socket.CloseOutputAsync(TryAgainLater, "slow consumer", CancellationToken.None), s_closeHandshake))
            {
                _lifetime.CancelAfter(s_closeHandshake);
                return;
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away meanwhile.
        }
        _socket.Abort();
        await stuck.ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    /// <summary>Whether <paramref name="send"/> completes within <paramref name="timeout"/>; its failure is thrown.</summary>
    private static async Task<bool> CompletesWithinAsync(Task send, TimeSpan timeout)
    {
        try
        {
            await send.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
