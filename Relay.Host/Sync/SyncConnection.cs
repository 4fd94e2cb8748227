using System.Buffers;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Core.Auth;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>
/// One WebSocket client: a receive loop handling its requests one at a time, one send loop draining a byte-bounded
/// queue, a pump per subscribed topic, heartbeats, an idle timeout and the token's deadline. A failure here ends this
/// connection only.
/// </summary>
internal abstract partial class SyncConnection
{
    /// <summary>RFC 6455 registry: the server is restarting; the client reconnects with backoff.</summary>
    private const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>RFC 6455 registry: try again later; the close that follows <c>SLOW_CONSUMER</c>.</summary>
    private const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;

    private static readonly TimeSpan s_closeHandshake = TimeSpan.FromSeconds(5);

    /// <summary>The longest a timer is armed for at once; a later deadline is re-armed when it fires.</summary>
    private static readonly TimeSpan s_longestTimer = TimeSpan.FromDays(1);

    private readonly WebSocket _socket;
    private readonly ConnectionActivity _activity;
    private readonly OutboundQueue _queue;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _deadline;
    private readonly DateTimeOffset _joinDeadline;
    private RelayPrincipal? _identity;
    private volatile bool _closed;
    private long? _badRequestLoggedAt;
    private long _badRequestsSince;

    protected SyncConnection(WebSocket socket, ConnectionActivity activity, IFraming framing, SyncContext context, RelayPrincipal? identity)
    {
        _socket = socket;
        _activity = activity;
        Framing = framing;
        Context = context;
        _queue = new OutboundQueue(context.Options.OutboundQueueBytes);
        _deadline = TimeProvider.System.CreateTimer(_ => OnDeadline(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _joinDeadline = DateTimeOffset.UtcNow + context.Options.JoinTimeout;
        Identity = identity;
    }

    /// <summary>Completes when the connection has ended.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Encoded bytes waiting to be sent to this client.</summary>
    public long QueuedBytes => _queue.QueuedBytes;

    /// <summary>How this connection's envelopes become frames.</summary>
    protected IFraming Framing { get; }

    protected SyncContext Context { get; }

    /// <summary>
    /// Who is connected; null on a Phoenix connection until a join brings a token. Setting it (a refresh, a Phoenix
    /// join) moves the connection's deadline to the new token's.
    /// </summary>
    protected RelayPrincipal? Identity
    {
        get => Volatile.Read(ref _identity);
        set
        {
            Volatile.Write(ref _identity, value);
            ArmDeadline();
        }
    }

    /// <summary>Serves the connection until either side closes it.</summary>
    public async Task RunAsync()
    {
        Context.Connections.Add(this);
        Context.Metrics.Connects.Add(1);
        var send = SendLoopAsync();
        var heartbeat = HeartbeatLoopAsync(_lifetime.Token);
        try
        {
            await ReceiveLoopAsync(_lifetime.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            Log.Dropped(Context.Logger, e.Message);
        }
        catch (Exception e)
        {
            // A bug, or a database error that is not an outage: the client is told, and resumes on a new connection.
            Log.Failed(Context.Logger, e);
            Push(Errors.Create(ErrorCode.Internal, "the connection failed inside the relay; reconnect"));
            Close(WebSocketCloseStatus.InternalServerError, "internal error");
        }
        finally
        {
            await _lifetime.CancelAsync();
            await StopAllPumpsAsync();
            _queue.Complete();
            await send;
            await heartbeat;
            await _deadline.DisposeAsync();
            Context.Connections.Remove(this);
            LogUnreportedBadRequests();
            _socket.Dispose();
            _lifetime.Dispose();
            _completion.TrySetResult();
        }
    }

    /// <summary>The relay is stopping: tell the client to reconnect elsewhere, then close with 1012.</summary>
    public void Shutdown()
    {
        Push(Errors.Restarting());
        Close(ServiceRestart, "service restart");
    }

    /// <summary>Ends the connection at once.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Handles one complete frame from the client.</summary>
    protected abstract Task HandleFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>The channel requests come on, written on replies (a Phoenix join_ref); null where the framing has none.</summary>
    protected virtual string? Channel => null;

    /// <summary>Queues the answer to a request, ahead of any waiting for space.</summary>
    protected void Reply(ServerEnvelope envelope) => _queue.WriteNow(new OutboundFrame(Framing.EncodeReply(envelope, Channel), Framing.MessageType));

    /// <summary>Queues a push (no ref).</summary>
    protected void Push(ServerEnvelope envelope) => _queue.WriteNow(new OutboundFrame(Framing.EncodePush(envelope), Framing.MessageType));

    /// <summary>Queues raw bytes already in this connection's framing.</summary>
    protected void Send(byte[] frame) => _queue.WriteNow(new OutboundFrame(frame, Framing.MessageType));

    /// <summary>
    /// Closes after what is queued; from now on the receive loop handles no request, and reads (dropping what it reads)
    /// only until the client answers the close (<see cref="ReceiveLoopAsync"/>).
    /// </summary>
    protected void Close(WebSocketCloseStatus status, string reason)
    {
        _closed = true;
        _queue.WriteNow(new OutboundFrame([], Framing.MessageType, status, reason));
        _queue.Complete();
    }

    /// <summary>
    /// Reads the client's frames one at a time until its close. Once the relay has closed (a refused frame, the token's
    /// deadline, shutdown), it goes on reading, and drops what it reads, until the client's close arrives, the send
    /// loop's close handshake runs out, or it has dropped more than four frames' limit: a socket closed with the client's
    /// bytes unread is reset by the kernel, and the client, still sending, would lose the error and the close it had not
    /// read yet.
    /// </summary>
    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var limit = Context.Options.MaxInboundFrameBytes;
        long drained = 0;
        while (_socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            if (!_closed)
            {
                await _queue.WaitForRepliesAsync(cancellationToken);
            }
            // Do a 0 byte read so that idle connections don't hold a buffer.
            var result = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                var length = 0;
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close && length <= limit)
                {
                    if (length == buffer.Length)
                    {
                        // Grow up to one byte past the limit: enough to know a frame is too big.
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += result.Count;
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _activity.Touch();
                    Close(WebSocketCloseStatus.NormalClosure, "");
                    return;
                }
                if (!_closed)
                {
                    await AcceptAsync(result.MessageType, buffer.AsMemory(0, length), limit, cancellationToken);
                }
                else if ((drained += length) > 4L * limit)
                {
                    // A client that goes on sending after the close is let go: reading its bytes would only cost.
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Checks one received frame and handles it, or refuses it and closes.</summary>
    private async Task AcceptAsync(WebSocketMessageType type, ReadOnlyMemory<byte> frame, int limit, CancellationToken cancellationToken)
    {
        _activity.Touch();
        if (frame.Length > limit)
        {
            Log.Refused(Context.Logger, "a frame over the size limit");
            Push(Errors.Create(ErrorCode.PayloadTooLarge, $"frames are limited to {limit} bytes"));
            Close(WebSocketCloseStatus.MessageTooBig, "message too big");
        }
        else if (type != Framing.MessageType)
        {
            Log.Refused(Context.Logger, $"a {type} frame on the {Framing.Name} framing");
            Close(WebSocketCloseStatus.InvalidMessageType, $"{Framing.Name} takes {Framing.MessageType} frames");
        }
        else
        {
            await HandleFrameAsync(frame, cancellationToken);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Context.Options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var silent = _activity.Silence;
                if (silent > Context.Options.IdleTimeout)
                {
                    Log.Idle(Context.Logger, ClientName, silent);
                    Close(WebSocketCloseStatus.EndpointUnavailable, "idle timeout");
                    return;
                }
                if (_queue.QueuedBytes < Context.Options.OutboundQueueBytes)
                {
                    QueueHeartbeat();
                }
                else
                {
                    Context.Metrics.PushesDropped.Add(1);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended.
        }
    }
}
