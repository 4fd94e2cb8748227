using System.Net;

namespace Relay.Client;

/// <summary>
/// The relay answered the WebSocket upgrade with an HTTP status instead of switching protocols: 401 when it refused the
/// token (missing, malformed, wrongly signed or expired), 503 while it shuts down. The client reports it
/// through <see cref="RelayClient.ConnectionFailed"/> and tries again after backoff with a token from its provider,
/// which may be a fresh one; a caller holding a fixed token can stop on it instead.
/// </summary>
public sealed class UpgradeRefusedException : Exception
{
    /// <summary>Creates the exception for <paramref name="statusCode"/>, with the socket's own exception inside.</summary>
    public UpgradeRefusedException(HttpStatusCode statusCode, Exception innerException)
        : base($"the relay refused the connection with HTTP {(int)statusCode} ({statusCode})", innerException) => StatusCode = statusCode;

    /// <summary>The status the relay answered with.</summary>
    public HttpStatusCode StatusCode { get; }
}
