using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>
/// A binary-protocol client of one topic that behaves as a real one does in a storm: it resumes from the last watermark
/// it received, reconnects after a dropped or refused connection (100–600 ms, jittered), subscribes again after
/// UNAVAILABLE once <c>retry_after_ms</c> has passed (any other error ends the connection), and notes when its topic was
/// last reported caught up.
/// </summary>
internal sealed class StormClient
{
    public string Topic { get; }

    private long _watermark;
    private long _caughtUpAt;

    public StormClient(string topic, long resumeAfter)
    {
        Topic = topic;
        _watermark = resumeAfter;
    }

    /// <summary>Errors received, by code, across every client (shared so that a storm's errors add up in one place).</summary>
    public required ConcurrentDictionary<ErrorCode, int> Errors { get; init; }

    /// <summary>Connection attempts that failed or sockets that dropped.</summary>
    public int ConnectFailures;

    /// <summary>When the topic was last reported caught up (a <see cref="Stopwatch"/> timestamp), or 0 since <see cref="Expect"/>.</summary>
    public long CaughtUpAt => Interlocked.Read(ref _caughtUpAt);

    public long Watermark => Interlocked.Read(ref _watermark);

    /// <summary>Forgets the last caught-up report: the next one is what the scenario waits for.</summary>
    public void Expect() => Interlocked.Exchange(ref _caughtUpAt, 0);

    /// <summary>Connects and follows the topic until <paramref name="cancellationToken"/> ends the run.</summary>
    public async Task RunAsync(Uri url, string token, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol(SyncEndpoints.ProtoSubprotocol);
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            try
            {
                await socket.ConnectAsync(url, cancellationToken);
                await SubscribeAsync(socket, cancellationToken);
                await ReceiveAsync(socket, cancellationToken);
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException)
            {
                Interlocked.Increment(ref ConnectFailures);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            await DelayAsync(TimeSpan.FromMilliseconds(100 + Random.Shared.Next(500)), cancellationToken);
        }
    }

    private Task SubscribeAsync(ClientWebSocket socket, CancellationToken cancellationToken) =>
        socket.SendAsync(
            ProtoFraming.Encode(new ClientEnvelope { Ref = "s", Subscribe = new Subscribe { Topics = { Topic }, ResumeAfter = { [Topic] = Watermark } } }),
            WebSocketMessageType.Binary, true, cancellationToken);

    private async Task ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                (buffer, var length, var type) = await WebSocketMessages.ReceiveAsync(socket, buffer, cancellationToken);
                if (type == WebSocketMessageType.Close)
                {
                    throw new WebSocketException("closed by the relay");
                }
                if (Handle(buffer.AsSpan(0, length)) is { } retry)
                {
                    await DelayAsync(retry, cancellationToken);
                    await SubscribeAsync(socket, cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Applies a frame; returns the delay before subscribing again when the relay asked for one.</summary>
    private TimeSpan? Handle(ReadOnlySpan<byte> frame)
    {
        if (FrameScanner.ScanBatch(frame, (_, watermark) => Advance(watermark), out _, out var endsReplay))
        {
            if (endsReplay)
            {
                Interlocked.Exchange(ref _caughtUpAt, Stopwatch.GetTimestamp());
            }
            return null;
        }
        if (ProtoFraming.DecodeServer(frame).Error is not { } error)
        {
            return null;
        }
        Errors.AddOrUpdate(error.Code, 1, (_, count) => count + 1);
        if (error.Code != ErrorCode.Unavailable)
        {
            throw new WebSocketException($"error {error.Code}: {error.Message}");
        }
        return TimeSpan.FromMilliseconds(Math.Max(error.RetryAfterMs, 100));
    }

    private void Advance(long watermark)
    {
        if (watermark > Interlocked.Read(ref _watermark))
        {
            Interlocked.Exchange(ref _watermark, watermark);
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over; the loop sees it.
        }
    }
}
