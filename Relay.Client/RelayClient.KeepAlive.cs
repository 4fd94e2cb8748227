using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Client;

public sealed partial class RelayClient
{
    private string _token = "";
    private DateTimeOffset? _tokenExpiry;

    /// <summary>
    /// Sends <c>Ping</c> when nothing was sent for <see cref="RelayClientOptions.PingInterval"/>, and a fresh token with
    /// <c>RefreshAuth</c> <see cref="RelayClientOptions.TokenRefreshMargin"/> before the current one expires.
    /// </summary>
    private async Task KeepAliveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(cancellationToken))
        {
            if (_tokenExpiry is { } expiry && DateTimeOffset.UtcNow >= expiry - _options.TokenRefreshMargin)
            {
                await RefreshTokenAsync(socket, cancellationToken);
            }
            if (Stopwatch.GetElapsedTime(_lastSend) >= _options.PingInterval)
            {
                await SendAsync(socket, new ClientEnvelope { Ping = new Ping() }, cancellationToken);
            }
        }
    }

    private async Task RefreshTokenAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var token = await _options.TokenProvider(cancellationToken);
        if (token == _token)
        {
            // The provider has nothing fresher: stop asking; the relay closes with 1008 at expiry and the client reconnects.
            _tokenExpiry = null;
            return;
        }
        _token = token;
        _tokenExpiry = TokenExpiry.Read(token);
        await SendAsync(socket, new ClientEnvelope { RefreshAuth = new RefreshAuth { Token = token } }, cancellationToken);
    }
}
