using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests;

/// <summary>A raw WebSocket client of the native endpoint (<c>.proto</c> or <c>.json</c>), as a third-party client would be.</summary>
public sealed class WsClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly bool _binary;
    private int _ref;

    private WsClient(ClientWebSocket socket, bool binary)
    {
        _socket = socket;
        _binary = binary;
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static Task<WsClient> ConnectAsync(RelayServerHarness relay, string subprotocol = SyncEndpoints.ProtoSubprotocol, string? token = null) =>
        ConnectAsync(relay.WebSocket, subprotocol, token);

    /// <summary>Connects to the relay at <paramref name="webSocket"/> (one of <see cref="Cli.RelayProcess"/>'s, with the test key).</summary>
    public static async Task<WsClient> ConnectAsync(Uri webSocket, string subprotocol = SyncEndpoints.ProtoSubprotocol, string? token = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subprotocol);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token ?? RelayServerHarness.Token()}");
        await socket.ConnectAsync(webSocket, Timeout());
        return new WsClient(socket, subprotocol == SyncEndpoints.ProtoSubprotocol);
    }

    public async Task<string> SendAsync(ClientEnvelope envelope)
    {
        if (envelope.Ref == "")
        {
            envelope.Ref = $"r{++_ref}";
        }
        var bytes = _binary ? ProtoFraming.Encode(envelope) : JsonFraming.Encode(envelope);
        await SendRawAsync(bytes, _binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
        return envelope.Ref;
    }

    public Task<string> SubscribeAsync(string topic, long after = 0) =>
        SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { topic }, ResumeAfter = { [topic] = after } } });

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type) =>
        await _socket.SendAsync(bytes, type, endOfMessage: true, Timeout());

    /// <summary>The next envelope, or null when the server closed the connection.</summary>
    public async Task<ServerEnvelope?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var result = await _socket.ReceiveAsync(chunk, cancel.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return _binary ? ProtoFraming.DecodeServer(buffer.ToArray()) : JsonFraming.DecodeServer(buffer.ToArray());
            }
        }
    }

    /// <summary>Receives until an envelope matches, returning everything received on the way (the match last).</summary>
    public async Task<List<ServerEnvelope>> ReceiveUntilAsync(Func<ServerEnvelope, bool> done)
    {
        var received = new List<ServerEnvelope>();
        // Heartbeats keep a connection busy forever: the wait as a whole has a deadline.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60) && await ReceiveAsync() is { } envelope)
        {
            received.Add(envelope);
            if (done(envelope))
            {
                return received;
            }
        }
        // Name what arrived (and any error in full), so that a failure says what the relay sent instead.
        var got = string.Join(", ", received.Select(e => e.Error is { } error ? $"Error({error.Code}: {error.Message})" : e.UpdateBatch is { } b ? $"UpdateBatch({b.Updates.Count}, through {string.Join(",", b.Watermarks.Values)})" : $"{e.MessageCase}"));
        Assert.Fail($"no awaited envelope within 60 s or before the connection closed ({CloseStatus}); got {received.Count}: {got}");
        return received;
    }

    /// <summary>Updates received until one batch reports <paramref name="topic"/> at <paramref name="through"/>.</summary>
    public async Task<List<Update>> UpdatesThroughAsync(string topic, long through) =>
        [.. (await ReceiveUntilAsync(e => e.UpdateBatch?.Watermarks.GetValueOrDefault(topic) >= through))
            .Where(e => e.UpdateBatch is not null).SelectMany(e => e.UpdateBatch.Updates)];

    /// <summary>Drops the connection as a process that dies does: with what it had not read, the kernel resets it.</summary>
    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Timeout());
            }
            catch (WebSocketException)
            {
                // Already gone.
            }
        }
        _socket.Dispose();
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
