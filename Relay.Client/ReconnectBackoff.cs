namespace Relay.Client;

/// <summary>
/// Reconnect delays (docs/protocol/WS_MAPPING.md §7): exponential with full jitter, the bound doubling from
/// <see cref="RelayClientOptions.InitialReconnectDelay"/> to <see cref="RelayClientOptions.MaxReconnectDelay"/>,
/// reset once a connection stayed up for <see cref="RelayClientOptions.ReconnectResetAfter"/>, and never below
/// the last error's <c>retry_after_ms</c>. Hand-written rather than a Polly retry: Polly counts attempts per
/// execution and jitters with decorrelated jitter, while this loop never ends, resets on a long-lived connection
/// and takes a floor from the server.
/// </summary>
internal sealed class ReconnectBackoff(RelayClientOptions options)
{
    private int _failures;

    /// <summary>The delay before the next connect, given how long the last connection lasted and the server's floor.</summary>
    public TimeSpan Next(TimeSpan connectedFor, TimeSpan retryAfter)
    {
        if (connectedFor >= options.ReconnectResetAfter)
        {
            _failures = 0;
        }
        var bound = options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30));
        bound = Math.Min(bound, options.MaxReconnectDelay.TotalMilliseconds);
        _failures++;
        var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * bound);
        return delay < retryAfter ? retryAfter : delay;
    }
}
