using OpenAgents.Sync.V1;

namespace Relay.Protocol.Phoenix;

/// <summary>A frame sent by a Phoenix client: <c>[join_ref, ref, topic, event, payload]</c>.</summary>
/// <param name="JoinRef">The ref of the join this frame belongs to; null for heartbeats.</param>
/// <param name="Ref">The frame's ref, echoed in the reply.</param>
/// <param name="Topic">The channel topic: <c>sync:v1</c>, or <c>phoenix</c> for heartbeats. Not checked here.</param>
/// <param name="Event">The event.</param>
public sealed record PhoenixClientFrame(string? JoinRef, string? Ref, string Topic, PhoenixClientEvent Event)
{
    /// <summary>
    /// For <c>subscribe</c>, <c>unsubscribe</c> and <c>refresh_auth</c>: the request as an envelope whose ref
    /// is the frame's ref. Null for the other events.
    /// </summary>
    public ClientEnvelope? Envelope { get; init; }

    /// <summary>For <c>phx_join</c>: the <c>token</c> param, if given.</summary>
    public string? Token { get; init; }
}
