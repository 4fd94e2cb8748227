using System.Collections.Frozen;
using System.Text;
using Relay.Core.Auth;
using Relay.Protocol;

namespace Relay.Host.Auth;

/// <summary>
/// The answer to an upgrade whose token is refused (docs/protocol/WS_MAPPING.md §1): HTTP 401 and
/// <c>{"error":"UNAUTHORIZED","reason":"&lt;reason class&gt;"}</c>, nothing more, so a prober learns only the class.
/// </summary>
public static class UnauthorizedResponse
{
    /// <summary>The <c>error</c> of the body: the protocol's error code <c>UNAUTHORIZED</c>.</summary>
    public const string ErrorCode = HttpErrorCodes.Unauthorized;

    // One body per reason, encoded once.
    private static readonly FrozenDictionary<AuthFailureReason, byte[]> s_bodies = Enum.GetValues<AuthFailureReason>().ToFrozenDictionary(
        reason => reason,
        reason => Encoding.UTF8.GetBytes($$"""{"error":"{{ErrorCode}}","reason":"{{AuthFailure.NameOf(reason)}}"}"""));

    /// <summary>The body for <paramref name="reason"/>, UTF-8 JSON.</summary>
    public static ReadOnlyMemory<byte> Body(AuthFailureReason reason) => s_bodies[reason];

    /// <summary>
    /// Writes the 401: <c>Content-Type: application/json</c>, <c>Cache-Control: no-store</c>, and
    /// <c>WWW-Authenticate: Bearer</c>, with <c>error="invalid_token"</c> when a token was presented (RFC 6750 §3).
    /// </summary>
    public static Task WriteUnauthorizedAsync(this HttpResponse response, AuthFailure failure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(failure);
        var body = Body(failure.Reason);
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        response.Headers.WWWAuthenticate = failure.Reason == AuthFailureReason.Missing ? "Bearer" : "Bearer error=\"invalid_token\"";
        return response.Body.WriteAsync(body, cancellationToken).AsTask();
    }
}
