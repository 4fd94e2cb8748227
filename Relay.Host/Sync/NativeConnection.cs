using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Core.Auth;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>A client on <c>/sync/v1/ws</c>: one envelope per frame, binary (<c>.proto</c>) or JSON text (<c>.json</c>).</summary>
internal sealed class NativeConnection(WebSocket socket, ConnectionActivity activity, SyncWire wire, SyncContext context, RelayPrincipal identity)
    : SyncConnection(socket, activity, wire, context, identity)
{
    protected override async Task HandleFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        ClientEnvelope request;
        try
        {
            request = Wire == SyncWire.Proto ? ProtoFraming.DecodeClient(frame.Span) : JsonFraming.DecodeClient(frame.Span);
        }
        catch (ProtocolException e)
        {
            Refuse(e);
            return;
        }
        await HandleRequestAsync(request, cancellationToken);
    }

    protected override byte[] EncodeReply(ServerEnvelope envelope) => Wire.EncodePush(envelope);
}
