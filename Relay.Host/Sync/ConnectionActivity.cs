using System.Net;
using Microsoft.AspNetCore.Http.Features;

namespace Relay.Host.Sync;

/// <summary>
/// When a WebSocket client last sent anything, control frames included. The runtime's WebSocket answers pings itself
/// and never hands them to the receive loop, so the idle timeout counts bytes read from the upgraded HTTP/1.1 stream
/// instead: a client that only sends ping frames is active.
/// </summary>
internal sealed class ConnectionActivity(HttpContext http)
{
    private long _lastReadTicks = Environment.TickCount64;

    /// <summary>
    /// The connection as the log names it: Kestrel's connection id (which its own logs and scopes use) and the peer, so
    /// that two connections of one subject are told apart.
    /// </summary>
    public string Name { get; } = $"connection {http.Connection.Id} from " +
        (http.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, http.Connection.RemotePort).ToString() : "an unknown peer");

    /// <summary>How long the client has sent nothing.</summary>
    public TimeSpan Silence => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastReadTicks));

    /// <summary>Records that the client sent something now.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastReadTicks, Environment.TickCount64);

    /// <summary>
    /// Middleware that runs before <c>UseWebSockets</c>: on an upgradable request it wraps the upgrade so that the
    /// upgraded stream records its reads, and leaves the record in the request's features for the connection.
    /// </summary>
    public static Task TrackAsync(HttpContext http, RequestDelegate next)
    {
        if (http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            var activity = new ConnectionActivity(http);
            http.Features.Set<IHttpUpgradeFeature>(new TrackedUpgrade(upgrade, activity));
            http.Features.Set(activity);
        }
        return next(http);
    }

    private sealed class TrackedUpgrade(IHttpUpgradeFeature inner, ConnectionActivity activity) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => new ActivityStream(await inner.UpgradeAsync(), activity);
    }
}
