using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using OpenAgents.Sync.V1;
using Relay.Core.Auth;
using Relay.Host.Auth;
using Relay.Host.Hosting;
using Relay.Protocol;
using Relay.Protocol.Hydration;
using Relay.Protocol.Phoenix;

namespace Relay.Host.Sync;

/// <summary>
/// Maps the WebSocket endpoints of CONTRACT §3, closes every connection with 1012 when the relay stops, and refuses
/// new upgrades from then on.
/// </summary>
internal static class SyncRoutes
{
    /// <summary>The envelope framings of <c>/sync/v1/ws</c>, in order of preference when a client offers several.</summary>
    public static readonly IReadOnlyList<IFraming<ClientEnvelope>> NativeFramings = [ProtoFraming.Instance, JsonFraming.Instance];

    [SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification =
        "ApplicationStopping callbacks are synchronous, and this one must hold the stop until the connections are told (1012) before Kestrel stops; there is no SynchronizationContext to deadlock on.")]
    public static void MapSync(this WebApplication app)
    {
        app.Use(ConnectionActivity.TrackAsync);
        app.UseWebSockets();
        app.Map(SyncEndpoints.WebSocketPath, AcceptNativeAsync);
        app.Map(SyncEndpoints.PhoenixPath, AcceptPhoenixAsync);
        var connections = app.Services.GetRequiredService<SyncConnections>();
        var options = app.Services.GetRequiredService<IOptions<SyncOptions>>().Value;
        app.Lifetime.ApplicationStopping.Register(() => connections.CloseAllAsync(options.ShutdownTimeout).GetAwaiter().GetResult());
    }

    private static async Task AcceptNativeAsync(HttpContext http, SyncContext context, TokenValidator tokens)
    {
        if (await RefusedWhileStoppingAsync(http, context))
        {
            return;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await JsonErrors.WriteAsync(http, StatusCodes.Status400BadRequest, $"{SyncEndpoints.WebSocketPath} takes a WebSocket upgrade");
            return;
        }
        var offered = http.WebSockets.WebSocketRequestedProtocols;
        // The first the client offers that the relay knows: RFC 6455 §4.1 lists them by the client's preference.
        var framing = offered.Select(protocol => NativeFramings.FirstOrDefault(framing => framing.Subprotocol == protocol))
            .FirstOrDefault(framing => framing is not null);
        if (framing is null)
        {
            await JsonErrors.WriteAsync(http, StatusCodes.Status400BadRequest,
                $"offer the subprotocol {string.Join(" or ", NativeFramings.Select(framing => framing.Subprotocol))}");
            return;
        }
        var result = await tokens.ValidateAsync(TokenExtractor.FromSyncRequest(http.Request).Token);
        if (result.Principal is not { } principal)
        {
            context.Refusals.Refused("a WebSocket upgrade", result.Failure!.ReasonName);
            await http.Response.WriteUnauthorizedAsync(result.Failure, http.RequestAborted);
            return;
        }
        var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = framing.Subprotocol,
        });
        await new NativeConnection(socket, Activity(http), framing, context, principal).RunAsync();
    }

    private static async Task AcceptPhoenixAsync(HttpContext http, SyncContext context, TokenValidator tokens)
    {
        if (await RefusedWhileStoppingAsync(http, context))
        {
            return;
        }
        if (!http.WebSockets.IsWebSocketRequest || http.Request.Query["vsn"] != SyncEndpoints.PhoenixVersion)
        {
            await JsonErrors.WriteAsync(http, StatusCodes.Status400BadRequest, $"the Phoenix endpoint speaks vsn={SyncEndpoints.PhoenixVersion} over WebSocket");
            return;
        }
        RelayPrincipal? principal = null;
        // Without a token here, the channel join may still bring one; a token that is here must be good.
        if (TokenExtractor.FromPhoenixRequest(http.Request).Token is { } token)
        {
            var result = await tokens.ValidateAsync(token);
            if (result.Principal is null)
            {
                context.Refusals.Refused("a Phoenix upgrade", result.Failure!.ReasonName);
                await http.Response.WriteUnauthorizedAsync(result.Failure, http.RequestAborted);
                return;
            }
            principal = result.Principal;
        }
        var framing = PhoenixFraming.Instance;
        var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = http.WebSockets.WebSocketRequestedProtocols.Contains(framing.Subprotocol) ? framing.Subprotocol : null,
        });
        await new PhoenixConnection(socket, Activity(http), framing, context, principal).RunAsync();
    }

    /// <summary>The record of the client's reads kept by <see cref="ConnectionActivity.TrackAsync"/>.</summary>
    private static ConnectionActivity Activity(HttpContext http) => http.Features.Get<ConnectionActivity>() ?? new ConnectionActivity(http);

    /// <summary>While the relay stops, a new upgrade gets 503 with <c>Retry-After</c>: the client reconnects elsewhere.</summary>
    private static async Task<bool> RefusedWhileStoppingAsync(HttpContext http, SyncContext context)
    {
        if (!context.Connections.Stopping)
        {
            return false;
        }
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = (Errors.RetryAfterMs / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var error = new HttpError(HttpErrorCodes.Unavailable, "the relay is restarting; reconnect with backoff");
        await http.Response.WriteAsJsonAsync(error, HydrationJsonContext.Default.HttpError, cancellationToken: http.RequestAborted);
        return true;
    }
}
