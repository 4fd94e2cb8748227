using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Client;

public sealed partial class RelayClient
{
    /// <summary>How long the client waits to ask the token provider again when it gave no fresher token, or threw.</summary>
    internal static readonly TimeSpan TokenRetryDelay = TimeSpan.FromSeconds(5);

    private string _token = "";
    private DateTimeOffset? _refreshAt;
    /// <summary>Why the keep-alive ended the connection, when it was a failure (an unanswered <c>Subscribe</c>).</summary>
    private Exception? _keepAliveFailure;

    /// <summary>
    /// Ends the connection when a <c>Subscribe</c> went unanswered for <see cref="RelayClientOptions.SubscribeTimeout"/>
    /// (<see cref="_keepAliveFailure"/> says why). Sends <c>Ping</c> when nothing was sent for
    /// <see cref="RelayClientOptions.PingInterval"/>, and a fresh token with
    /// <c>RefreshAuth</c> ahead of the current one's expiry (<see cref="RefreshTime"/>). A provider that gives the same
    /// token again, or throws, is asked again after <see cref="TokenRetryDelay"/>, until the connection ends (at the
    /// token's deadline, the relay closes it; reconnecting asks the provider, and reports its failure). A fresh token
    /// of another identity is not sent (the relay would refuse it): <paramref name="connection"/> is ended instead, and
    /// the client reconnects with it after dropping the old identity's state.
    /// </summary>
    private async Task KeepAliveAsync(ClientWebSocket socket, CancellationTokenSource connection, CancellationToken cancellationToken)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(cancellationToken))
        {
            if (_refreshAt is { } refreshAt && DateTimeOffset.UtcNow >= refreshAt
                && !await RefreshTokenAsync(socket, cancellationToken))
            {
                _identityChanged = true;
                await connection.CancelAsync();
                return;
            }
            if (Unanswered() is { } unanswered)
            {
                _keepAliveFailure = new TimeoutException(
                    $"the relay did not answer the Subscribe of {string.Join(", ", unanswered.Topics)} within {_options.SubscribeTimeout.TotalSeconds:0.###} s " +
                    "(RelayClientOptions.SubscribeTimeout): the connection is taken for broken");
                await connection.CancelAsync();
                return;
            }
            if (Stopwatch.GetElapsedTime(_lastSend) >= _options.PingInterval)
            {
                await SendAsync(socket, new ClientEnvelope { Ping = new Ping() }, cancellationToken);
            }
        }
    }

    /// <summary>Makes <paramref name="token"/> the one in force, and plans its refresh.</summary>
    private void UseToken(string token, DateTimeOffset? expiry)
    {
        _token = token;
        _refreshAt = expiry is { } at ? RefreshTime(at, DateTimeOffset.UtcNow, _options.TokenRefreshMargin) : null;
    }

    /// <summary>
    /// When to refresh a token that expires at <paramref name="expiry"/>, received at <paramref name="now"/>:
    /// <paramref name="margin"/> before it; for a token that lives no longer than the margin, halfway through what is
    /// left of it (it would otherwise be refreshed on every tick, and so would each fresh one).
    /// </summary>
    internal static DateTimeOffset RefreshTime(DateTimeOffset expiry, DateTimeOffset now, TimeSpan margin) =>
        expiry - margin > now ? expiry - margin : now + ((expiry - now) / 2);

    /// <summary>
    /// Calls the token provider, waiting at most <see cref="RelayClientOptions.TokenProviderTimeout"/>: a call that does
    /// not answer is left behind (what it throws later is observed, not raised) and this throws a
    /// <see cref="TimeoutException"/>.
    /// </summary>
    private async Task<string> ProvideTokenAsync(CancellationToken cancellationToken)
    {
        var call = _options.TokenProvider(cancellationToken).AsTask();
        try
        {
            return await call.WaitAsync(_options.TokenProviderTimeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            _ = call.ContinueWith(static late => late.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutException(
                $"the token provider did not answer within {_options.TokenProviderTimeout.TotalSeconds:0.###} s (RelayClientOptions.TokenProviderTimeout)", e);
        }
    }

    /// <summary>Sends a fresh token in band; returns false, sending nothing, when it names another identity than the state in force.</summary>
    private async Task<bool> RefreshTokenAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        string token;
        try
        {
            // A provider that hangs is left behind, not waited for: the pings go on meanwhile.
            token = await ProvideTokenAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The connection goes on with the token in force; should the provider still fail when it ends, the
            // reconnect reports it through ConnectionFailed.
            _refreshAt = DateTimeOffset.UtcNow + TokenRetryDelay;
            return true;
        }
        if (token == _token)
        {
            // Nothing fresher yet (a token rotated by someone else, later): ask again soon, until the connection ends.
            _refreshAt = DateTimeOffset.UtcNow + TokenRetryDelay;
            return true;
        }
        var claims = TokenClaims.Read(token);
        if (claims.Identity != _identity)
        {
            return false;
        }
        UseToken(token, claims.Expiry);
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
