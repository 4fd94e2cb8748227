using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Core.Subscriptions;
using Relay.Host.Sync;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>
/// The fan-out baseline: a bare Kestrel WebSocket loop with no database, no journal, no auth and no per-client budget.
/// A client's first frame (its Subscribe) is answered with "caught up" for its topics; every frame POSTed to
/// <c>/broadcast</c> is then queued to every connection, each with its own send loop. The benchmark clients cannot tell
/// it from the relay, so the difference between the two is what the relay costs.
/// </summary>
internal static class RawFanoutServer
{
    public const string Command = "raw-server";

    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.UseWebSockets();
        var connections = new ConcurrentDictionary<Channel<byte[]>, byte>();
        app.MapGet("/readyz", () => "ready");
        app.MapPost("/broadcast", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var frame = body.ToArray();
            foreach (var queue in connections.Keys)
            {
                queue.Writer.TryWrite(frame);
            }
            return Results.NoContent();
        });
        app.Map(SyncEndpoints.WebSocketPath, async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(SyncEndpoints.ProtoSubprotocol);
            var queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
            var receiving = ReceiveAsync(socket, queue, connections);
            try
            {
                await foreach (var frame in queue.Reader.ReadAllAsync())
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
                // The client went away; the receive loop sees it too.
            }
            await receiving;
        });
        await app.RunAsync();
    }

    /// <summary>Answers the Subscribe, joins the broadcast, and reads until the client goes away.</summary>
    private static async Task ReceiveAsync(WebSocket socket, Channel<byte[]> queue, ConcurrentDictionary<Channel<byte[]>, byte> connections)
    {
        try
        {
            if (await ReadFrameAsync(socket) is not { } first)
            {
                return;
            }
            foreach (var topic in ProtoFraming.DecodeClient(first).Subscribe.Topics)
            {
                queue.Writer.TryWrite(ProtoFraming.Encode(UpdateMapper.ToEnvelope(new EventBatch(topic, [], 0, SubscriptionPhase.CaughtUp))));
            }
            connections.TryAdd(queue, 0);
            while (await ReadFrameAsync(socket) is not null)
            {
                // Clients send nothing after subscribing.
            }
        }
        catch (WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            connections.TryRemove(queue, out _);
            queue.Writer.TryComplete();
        }
    }

    /// <summary>
    /// One small frame, or null at close. Like the relay, it waits with a zero-byte read so that an idle connection
    /// holds no receive buffer.
    /// </summary>
    private static async Task<byte[]?> ReadFrameAsync(WebSocket socket)
    {
        await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close && length < buffer.Length);
            return result.MessageType == WebSocketMessageType.Close ? null : buffer[..length];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
