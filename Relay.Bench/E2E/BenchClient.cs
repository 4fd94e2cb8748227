using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>A subscribed binary-protocol client that records, per update, the time since its commit returned.</summary>
internal sealed class BenchClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiving = Task.CompletedTask;

    public long Updates;

    /// <summary>(watermark, receive timestamp) of every update, when recording.</summary>
    public List<(long Watermark, long Received)> Received { get; } = [];

    public Task CaughtUp => _caughtUp.Task;

    public static async Task<BenchClient> ConnectAsync(RelayProcess relay, string topic, long after, string token)
    {
        var client = new BenchClient();
        client._socket.Options.AddSubProtocol(SyncEndpoints.ProtoSubprotocol);
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await client._socket.ConnectAsync(relay.WebSocket, CancellationToken.None);
        var subscribe = new ClientEnvelope { Ref = "1", Subscribe = new Subscribe { Topics = { topic }, ResumeAfter = { [topic] = after } } };
        await client._socket.SendAsync(ProtoFraming.Encode(subscribe), WebSocketMessageType.Binary, true, CancellationToken.None);
        return client;
    }

    /// <summary>Receives until closed, recording each update's arrival when <paramref name="record"/>.</summary>
    public void Start(bool record, CancellationToken cancellationToken) =>
        _receiving = Task.Run(async () =>
        {
            var buffer = new byte[4 * 1024 * 1024];
            try
            {
                while (true)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    var received = Stopwatch.GetTimestamp();
                    var envelope = ProtoFraming.DecodeServer(buffer.AsSpan(0, length));
                    if (envelope.UpdateBatch is not { } batch)
                    {
                        continue;
                    }
                    if (batch.CaughtUpTopics.Count > 0)
                    {
                        _caughtUp.TrySetResult();
                    }
                    Interlocked.Add(ref Updates, batch.Updates.Count);
                    if (record)
                    {
                        Received.AddRange(batch.Updates.Select(u => (u.Watermark, received)));
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
                // The run is over.
            }
        }, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }
}
