using System.Net.WebSockets;
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
}
