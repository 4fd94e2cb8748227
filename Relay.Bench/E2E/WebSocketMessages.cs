using System.Buffers;
using System.Net.WebSockets;

namespace Relay.Bench.E2E;

/// <summary>Reads whole WebSocket messages into buffers rented from the shared pool.</summary>
internal static class WebSocketMessages
{
    /// <summary>
    /// Receives one message into <paramref name="buffer"/>, renting a larger one (and returning the smaller) when it does
    /// not fit; returns the buffer now holding it, its length and its type.
    /// </summary>
    public static async ValueTask<(byte[] Buffer, int Length, WebSocketMessageType Type)> ReceiveAsync(
        ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (!result.EndOfMessage);
        return (buffer, length, result.MessageType);
    }
}
