using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Client;

public sealed partial class RelayClient
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _socket;
    private volatile bool _closing;
    private ClientWebSocket? _subscribedSocket;
    private int _connection;
    private long _lastSend;
    private TimeSpan _retryAfter;
    private int _ref;

    /// <summary>Aborts the current connection as a network failure would; the client reconnects (a test hook).</summary>
    internal void AbortConnection() => _socket?.Abort();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(_options);
        while (!cancellationToken.IsCancellationRequested)
        {
            var connectedFor = TimeSpan.Zero;
            var identityChanged = false;
            try
            {
                SetState(ConnectionState.Connecting);
                using var socket = await ConnectAsync(cancellationToken);
                var connectedAt = Stopwatch.GetTimestamp();
                try
                {
                    await RunConnectionAsync(socket, cancellationToken);
                }
                finally
                {
                    connectedFor = Stopwatch.GetElapsedTime(connectedAt);
                }
            }
            catch (Exception e)
            {
                if (cancellationToken.IsCancellationRequested || _closing)
                {
                    // Disposing: whatever the teardown threw is the end of the run, not a failure.
                    return;
                }
                // The token provider switched identity (seen by the keep-alive, or by an HTTP request): not a failure.
                identityChanged = _identityChanged || e is IdentityChangedException;
                if (!identityChanged)
                {
                    RaiseOutsideConnection(() => ConnectionFailed?.Invoke(e));
                }
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            RaiseOutsideConnection(() => SetState(ConnectionState.Disconnected));
            if (identityChanged)
            {
                // Reconnect at once: ConnectAsync drops the old identity's state before the new connection.
                _identityChanged = false;
                continue;
            }
            var delay = backoff.Next(connectedFor, _retryAfter);
            _retryAfter = TimeSpan.Zero;
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>
    /// Raises an event between connections. What its handler throws is ignored: nothing but <see cref="DisposeAsync"/>
    /// may stop the client reconnecting (a handler that throws while connected fails that connection instead, and
    /// <see cref="ConnectionFailed"/> reports it).
    /// </summary>
    private static void RaiseOutsideConnection(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception)
        {
            // Ignored, as documented on the events.
        }
    }

    private async Task<ClientWebSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        var token = await ProvideTokenAsync(cancellationToken);
        // The state loaded (the first time, which lets Documents serve the saved copy offline) or dropped (when the token
        // names another identity) before any update of this connection can be applied.
        await AdoptIdentityAsync(token, loadOnly: false, cancellationToken);
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(_options.UseJson ? SyncEndpoints.JsonSubprotocol : SyncEndpoints.ProtoSubprotocol);
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        // The client sends Ping envelopes itself, which the relay counts as activity; WebSocket pings would not be seen.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        // A refused upgrade then says its status and its WWW-Authenticate reason, which UpgradeRefusedException carries.
        socket.Options.CollectHttpResponseDetails = true;
        var url = new UriBuilder(new Uri(_options.Url, SyncEndpoints.WebSocketPath))
        {
            Scheme = _options.Url.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(url.Uri, timeout.Token);
        }
        catch (WebSocketException e) when (socket.HttpStatusCode is >= HttpStatusCode.BadRequest and var status)
        {
            var reason = UpgradeRefusedException.ReasonOf(socket.HttpResponseHeaders);
            socket.Dispose();
            throw new UpgradeRefusedException(status, reason, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"the relay did not accept the connection within {_options.ConnectTimeout.TotalSeconds:0.###} s (RelayClientOptions.ConnectTimeout)", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        UseToken(token, TokenClaims.Read(token).Expiry);
        return socket;
    }

    private async Task RunConnectionAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _caughtUp.Clear();
        // A Subscribe the last connection sent without an answer is answered by no one now.
        _pendingSubscribes.Clear();
        _socket = socket;
        _lastSend = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _connection);
        ReadmitCoveredTopics();
        List<string> topics;
        lock (_lock)
        {
            topics = [.. _topics];
            _subscribedSocket = socket;
        }
        var keepAlive = Task.CompletedTask;
        try
        {
            SetState(ConnectionState.Connected);
            RaiseLeftDeletions();
            if (topics.Count > 0)
            {
                await SubscribeOnAsync(socket, topics, connection.Token);
            }
            keepAlive = KeepAliveAsync(socket, connection, connection.Token);
            try
            {
                await ReceiveLoopAsync(socket, connection.Token);
            }
            catch (OperationCanceledException) when (Interlocked.Exchange(ref _keepAliveFailure, null) is { } failure)
            {
                throw failure;
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribedSocket = null;
            }
            await connection.CancelAsync();
            await keepAlive.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var frame = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            frame.ResetWrittenCount();
            using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            silence.CancelAfter(_options.ServerSilenceTimeout);
            ValueWebSocketReceiveResult result;
            do
            {
                result = await ReceiveWithinAsync(socket, frame.GetMemory(64 * 1024), silence.Token, cancellationToken);
                frame.Advance(result.Count);
                if (frame.WrittenCount > ProtocolLimits.MaxOutboundFrameBytes)
                {
                    throw new WebSocketException(WebSocketError.Faulted, "the relay sent a frame over 4 MiB");
                }
            }
            while (!result.EndOfMessage);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                    $"the relay closed the connection: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }
            var envelope = _options.UseJson ? JsonFraming.DecodeServer(frame.WrittenSpan) : ProtoFraming.DecodeServer(frame.WrittenSpan);
            await HandleAsync(socket, envelope, cancellationToken);
        }
    }

    /// <summary>A receive bounded by the server-silence timer (<paramref name="silence"/>), whose expiry it says in words.</summary>
    private async ValueTask<ValueWebSocketReceiveResult> ReceiveWithinAsync(
        ClientWebSocket socket, Memory<byte> buffer, CancellationToken silence, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(buffer, silence);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"the relay sent nothing for {_options.ServerSilenceTimeout.TotalSeconds:0.###} s (RelayClientOptions.ServerSilenceTimeout; it sends a heartbeat every 15 s): the connection is taken for dead",
                e);
        }
    }

    private async Task SendAsync(ClientWebSocket socket, ClientEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Ref.Length == 0)
        {
            envelope.Ref = Interlocked.Increment(ref _ref).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var bytes = _options.UseJson ? JsonFraming.Encode(envelope) : ProtoFraming.Encode(envelope);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(bytes, _options.UseJson ? WebSocketMessageType.Text : WebSocketMessageType.Binary, true, cancellationToken);
            _lastSend = Stopwatch.GetTimestamp();
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseAsync()
    {
        _closing = true;
        if (_socket is not { State: WebSocketState.Open } socket)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _sendLock.WaitAsync(timeout.Token);
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "client closing", timeout.Token);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: the socket is torn down anyway.
        }
    }
}
