using System.Net;
using System.Text.RegularExpressions;

namespace Relay.Client;

/// <summary>
/// The relay answered the WebSocket upgrade with an HTTP status instead of switching protocols: 401 when it refused the
/// token (missing, malformed, wrongly signed or expired: <see cref="Reason"/> says which), 503 while it shuts down. The
/// client reports it through <see cref="RelayClient.ConnectionFailed"/> and tries again after backoff with a token from
/// its provider, which may be a fresh one; a caller holding a fixed token can stop on it instead.
/// </summary>
public sealed partial class UpgradeRefusedException : Exception
{
    /// <summary>Creates the exception for <paramref name="statusCode"/> and the relay's <paramref name="reason"/>, with the socket's own exception inside.</summary>
    public UpgradeRefusedException(HttpStatusCode statusCode, string? reason, Exception innerException)
        : base($"the relay refused the connection with HTTP {(int)statusCode} ({statusCode}){(reason is null ? "" : $": token refused: {reason}")}", innerException)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    /// <summary>The status the relay answered with.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>
    /// For a 401, the reason class the relay refused the token for (<c>expired</c>, <c>unknown_key</c>,
    /// <c>wrong_audience</c>…, docs/auth.md), from its <c>WWW-Authenticate</c> challenge's <c>error_description</c>; null
    /// when it named none (no token was sent, or another status).
    /// </summary>
    public string? Reason { get; }

    /// <summary>The <c>error_description</c> of a <c>WWW-Authenticate: Bearer</c> challenge (RFC 6750 §3), if any.</summary>
    internal static string? ReasonOf(IReadOnlyDictionary<string, IEnumerable<string>>? headers) =>
        headers?.FirstOrDefault(header => string.Equals(header.Key, "WWW-Authenticate", StringComparison.OrdinalIgnoreCase)).Value?
            .Select(challenge => ErrorDescription().Match(challenge))
            .FirstOrDefault(match => match.Success)?.Groups[1].Value;

    [GeneratedRegex("error_description=\"([a-z_]{1,64})\"")]
    private static partial Regex ErrorDescription();
}
