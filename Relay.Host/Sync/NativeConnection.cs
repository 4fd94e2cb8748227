using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Core.Auth;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>
/// A client on <c>/sync/v1/ws</c>: one envelope per frame, in whichever envelope framing its subprotocol chose
/// (<c>.proto</c> or <c>.json</c>).
/// </summary>
internal sealed class NativeConnection(WebSocket socket, ConnectionActivity activity, IFraming<ClientEnvelope> framing, SyncContext context, RelayPrincipal identity)
    : SyncConnection(socket, activity, framing, context, identity)
{
    protected override async Task HandleFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        ClientEnvelope request;
        try
        {
            request = framing.DecodeClient(frame.Span);
        }
        catch (ProtocolException e)
        {
            Refuse(e);
            return;
        }
        await HandleRequestAsync(request, cancellationToken);
    }
}
