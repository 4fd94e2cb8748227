using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Core.Auth;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Host.Sync;

/// <summary>
/// A stock <c>phoenix</c> JS client on <c>/socket/websocket?vsn=2.0.0</c>: Phoenix Channels V2 JSON framing, one channel
/// <c>sync:v1</c>, its requests mapped onto the same handling as the native framings (WS_MAPPING §3.3).
/// </summary>
internal sealed class PhoenixConnection(WebSocket socket, ConnectionActivity activity, IFraming<PhoenixClientFrame> framing, SyncContext context, RelayPrincipal? identity)
    : SyncConnection(socket, activity, framing, context, identity)
{
    private string? _joinRef;

    protected override async Task HandleFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        PhoenixClientFrame request;
        try
        {
            request = framing.DecodeClient(frame.Span);
        }
        catch (ProtocolException e)
        {
            Refuse(e);
            return;
        }

        if (RefusedForLongRef(request.Ref) || RefusedForLongRef(request.JoinRef))
        {
            return;
        }
        if (request.Event == PhoenixClientEvent.Heartbeat && request.Topic == PhoenixFraming.HeartbeatTopic)
        {
            Send(Encode(PhoenixFraming.EncodeHeartbeatReply, request));
            return;
        }
        var joined = _joinRef is not null && request.JoinRef == _joinRef;
        if (request.Topic != PhoenixFraming.ChannelTopic || (request.Event != PhoenixClientEvent.Join && !joined))
        {
            Send(Encode(PhoenixFraming.EncodeUnmatchedTopicReply, request));
            return;
        }

        switch (request.Event)
        {
            case PhoenixClientEvent.Join:
                await JoinAsync(request);
                break;
            case PhoenixClientEvent.Leave:
                await LeaveAsync(request);
                break;
            case PhoenixClientEvent.Subscribe or PhoenixClientEvent.Unsubscribe or PhoenixClientEvent.RefreshAuth:
                await HandleRequestAsync(request.Envelope!, cancellationToken);
                break;
            default:
                Send(Encode(PhoenixFraming.EncodeUnmatchedTopicReply, request));
                break;
        }
    }

    protected override string? Channel => _joinRef;

    /// <summary>
    /// Joining <c>sync:v1</c>: a token in the join params replaces the connection's, as a refresh does, so of the same
    /// organization and subject (a connection never changes whose documents it carries); without any, refused.
    /// </summary>
    private async Task JoinAsync(PhoenixClientFrame request)
    {
        if (request.JoinRef is null)
        {
            // Later events name their channel by it: an acknowledged join without one would leave them all unmatched.
            const string message = "phx_join needs a join_ref (the second element): later events name the channel by it";
            LogBadRequest(message);
            Reply(Errors.Create(ErrorCode.BadRequest, message, @ref: request.Ref));
            return;
        }
        if (_joinRef is not null)
        {
            // A rejoin (the stock client's recovery): the old channel's subscriptions end.
            await StopAllPumpsAsync();
        }
        _joinRef = request.JoinRef;
        if (request.Token is { } token)
        {
            var result = Identity is { } current
                ? await Context.Tokens.ValidateRefreshAsync(current, token)
                : await Context.Tokens.ValidateAsync(token);
            if (result.Principal is null)
            {
                Context.Refusals.Refused("a Phoenix join", result.Failure!.ReasonName);
                Reply(Errors.Create(ErrorCode.Unauthorized, $"token refused: {result.Failure.ReasonName}", @ref: request.Ref));
                _joinRef = null;
                return;
            }
            Identity = result.Principal;
        }
        if (Identity is null)
        {
            Reply(Errors.Create(ErrorCode.Unauthorized, "no token: pass one in the socket params or the join params", @ref: request.Ref));
            _joinRef = null;
            return;
        }
        Reply(new ServerEnvelope { Ref = request.Ref ?? "", Ack = new Ack() });
    }

    private async Task LeaveAsync(PhoenixClientFrame request)
    {
        await StopAllPumpsAsync();
        Reply(new ServerEnvelope { Ref = request.Ref ?? "", Ack = new Ack() });
        _joinRef = null;
    }

    private static byte[] Encode(Action<PhoenixClientFrame, System.Buffers.IBufferWriter<byte>> encode, PhoenixClientFrame request)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        encode(request, buffer);
        return buffer.WrittenSpan.ToArray();
    }
}
