using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>
/// A binary-protocol client subscribed to one or more topics from a watermark. It counts updates and, when recording,
/// notes each update's arrival under its <see cref="CommitLog"/> key, to be turned into commit→client latencies.
/// </summary>
internal sealed class BenchClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[][] _topics;
    private Task _receiving = Task.CompletedTask;
    private int _caughtUpTopics;

    public long Updates;

    private BenchClient(string[] topics) => _topics = [.. topics.Select(Encoding.UTF8.GetBytes)];

    private readonly List<(long Key, long Received)> _received = [];

    /// <summary>Completes once every topic has been reported caught up.</summary>
    public Task CaughtUp => _caughtUp.Task;

    public static async Task<BenchClient> ConnectAsync(ServerProcess server, string[] topics, long after, string token)
    {
        var client = new BenchClient(topics);
        client._socket.Options.AddSubProtocol(SyncEndpoints.ProtoSubprotocol);
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await client._socket.ConnectAsync(server.WebSocket, CancellationToken.None);
        var subscribe = new Subscribe { Topics = { topics } };
        foreach (var topic in topics)
        {
            subscribe.ResumeAfter[topic] = after;
        }
        await client._socket.SendAsync(ProtoFraming.Encode(new ClientEnvelope { Ref = "1", Subscribe = subscribe }), WebSocketMessageType.Binary, true, CancellationToken.None);
        return client;
    }

    /// <summary>Receives until closed, recording each update's arrival when <paramref name="record"/>.</summary>
    public void Start(bool record, CancellationToken cancellationToken) =>
        _receiving = Task.Run(async () =>
        {
            long received = 0;
            UpdateVisitor? visit = record ? (topic, watermark) => _received.Add((CommitLog.Key(TopicIndex(topic), watermark), received)) : null;
            try
            {
                while (true)
                {
                    // A zero-byte read first, so that ten thousand idle clients hold no buffers.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                    var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
                    try
                    {
                        (buffer, var length, var type) = await WebSocketMessages.ReceiveAsync(_socket, buffer, cancellationToken);
                        if (type == WebSocketMessageType.Close)
                        {
                            return;
                        }
                        received = Stopwatch.GetTimestamp();
                        bool batch;
                        int updates;
                        bool endsReplay;
                        lock (_received)
                        {
                            batch = FrameScanner.ScanBatch(buffer.AsSpan(0, length), visit, out updates, out endsReplay);
                        }
                        if (batch)
                        {
                            Interlocked.Add(ref Updates, updates);
                            if (endsReplay && Interlocked.Increment(ref _caughtUpTopics) == _topics.Length)
                            {
                                _caughtUp.TrySetResult();
                            }
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // The run is over (a receive under way when the socket is aborted may find it disposed: e2e all failed so once).
            }
        }, CancellationToken.None);

    /// <summary>(commit log key, receive timestamp) of every update recorded since the last call.</summary>
    public List<(long Key, long Received)> TakeReceived()
    {
        lock (_received)
        {
            var taken = _received.ToList();
            _received.Clear();
            return taken;
        }
    }

    private int TopicIndex(ReadOnlySpan<byte> topic)
    {
        for (var i = 0; i < _topics.Length; i++)
        {
            if (topic.SequenceEqual(_topics[i]))
            {
                return i;
            }
        }
        throw new InvalidDataException($"an update of a topic this client did not subscribe to: {Encoding.UTF8.GetString(topic)}");
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }
}
