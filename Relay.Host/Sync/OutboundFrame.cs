using System.Net.WebSockets;

namespace Relay.Host.Sync;

/// <summary>One frame waiting in a connection's send queue, or the close that ends it.</summary>
/// <param name="Bytes">The encoded frame (possibly shared with other connections: never modified).</param>
/// <param name="Type">Text or binary.</param>
/// <param name="Close">When set, close the connection with this status after the frames before it.</param>
/// <param name="Reason">The close reason.</param>
/// <param name="Reply">Queued whatever the budget (a reply, a push, the close), not by a topic's pump.</param>
internal readonly record struct OutboundFrame(byte[] Bytes, WebSocketMessageType Type, WebSocketCloseStatus? Close = null, string? Reason = null, bool Reply = false)
{
    /// <summary>The frame's place in the order frames were queued (from 1), set by the queue.</summary>
    public long Sequence { get; init; }
}
