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
    /// <c>RefreshAuth</c> <see cref="RelayClientOptions.TokenRefreshMargin"/> before the current one expires. A fresh token
    /// of another identity is not sent (the relay would refuse it): <paramref name="connection"/> is ended instead, and
    /// the client reconnects with it after dropping the old identity's state.
    /// </summary>
    private async Task KeepAliveAsync(ClientWebSocket socket, CancellationTokenSource connection, CancellationToken cancellationToken)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(cancellationToken))
        {
            if (_tokenExpiry is { } expiry && DateTimeOffset.UtcNow >= expiry - _options.TokenRefreshMargin
                && !await RefreshTokenAsync(socket, cancellationToken))
            {
                _identityChanged = true;
                await connection.CancelAsync();
                return;
            }
            if (Stopwatch.GetElapsedTime(_lastSend) >= _options.PingInterval)
            {
                await SendAsync(socket, new ClientEnvelope { Ping = new Ping() }, cancellationToken);
            }
        }
    }

    /// <summary>Sends a fresh token in band; returns false, sending nothing, when it names another identity than the state in force.</summary>
    private async Task<bool> RefreshTokenAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var token = await _options.TokenProvider(cancellationToken);
        if (token == _token)
        {
            // The provider has nothing fresher: stop asking; the relay closes with 1008 at expiry and the client reconnects.
            _tokenExpiry = null;
            return true;
        }
        var claims = TokenClaims.Read(token);
        if (claims.Identity != _identity)
        {
            return false;
        }
        _token = token;
        _tokenExpiry = claims.Expiry;
        await SendAsync(socket, new ClientEnvelope { RefreshAuth = new RefreshAuth { Token = token } }, cancellationToken);
        // The relay takes the token before the Subscribe that follows it; should it refuse the token, the topics are
        // refused again under it, and wait for the next.
        if (ReadmitCoveredTopics() is { Count: > 0 } readmitted)
        {
            await SubscribeOnAsync(socket, readmitted, cancellationToken);
        }
        return true;
    }
}
