using System.Net.WebSockets;
using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    /// <summary>
    /// A frame that could not be used: <c>BAD_REQUEST</c> as the answer to its ref when one could be read; a frame that
    /// cannot be decoded at all is also the end of the connection (1002).
    /// </summary>
    protected void Refuse(ProtocolException error)
    {
        Log.BadRequest(Context.Logger, error.Message);
        var envelope = error.ToEnvelope();
        if (error.IsFatal)
        {
            Push(envelope);
            Close(WebSocketCloseStatus.ProtocolError, "protocol error");
        }
        else
        {
            Reply(envelope);
        }
    }

    /// <summary>
    /// A request whose ref is over <see cref="ProtocolLimits.MaxRefBytes"/> is refused with <c>BAD_REQUEST</c>, sent as a
    /// push since the ref cannot be echoed (WS_MAPPING §2); true when it was.
    /// </summary>
    protected bool RefusedForLongRef(string? @ref)
    {
        if (@ref is null || @ref.Length * 3 <= ProtocolLimits.MaxRefBytes || Encoding.UTF8.GetByteCount(@ref) <= ProtocolLimits.MaxRefBytes)
        {
            return false;
        }
        var message = $"a ref is at most {ProtocolLimits.MaxRefBytes} bytes of UTF-8; this one is {Encoding.UTF8.GetByteCount(@ref)}";
        Log.BadRequest(Context.Logger, message);
        Push(Errors.Create(ErrorCode.BadRequest, message));
        return true;
    }
}
