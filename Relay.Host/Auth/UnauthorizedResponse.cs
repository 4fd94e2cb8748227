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

    // One body and one challenge per reason, made once.
    private static readonly FrozenDictionary<AuthFailureReason, byte[]> s_bodies = Enum.GetValues<AuthFailureReason>().ToFrozenDictionary(
        reason => reason,
        reason => Encoding.UTF8.GetBytes($$"""{"error":"{{ErrorCode}}","reason":"{{AuthFailure.NameOf(reason)}}"}"""));

    private static readonly FrozenDictionary<AuthFailureReason, string> s_challenges = Enum.GetValues<AuthFailureReason>().ToFrozenDictionary(
        reason => reason,
        reason => reason == AuthFailureReason.Missing ? "Bearer" : $"Bearer error=\"invalid_token\", error_description=\"{AuthFailure.NameOf(reason)}\"");

    /// <summary>The body for <paramref name="reason"/>, UTF-8 JSON.</summary>
    public static ReadOnlyMemory<byte> Body(AuthFailureReason reason) => s_bodies[reason];

    /// <summary>
    /// Writes the 401: <c>Content-Type: application/json</c>, <c>Cache-Control: no-store</c>, and
    /// <c>WWW-Authenticate: Bearer</c>, with <c>error="invalid_token"</c> and the reason class as
    /// <c>error_description</c> when a token was presented (RFC 6750 §3): a client whose WebSocket library cannot read
    /// a refused upgrade's body (.NET's <c>ClientWebSocket</c>) reads the reason there.
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
        response.Headers.WWWAuthenticate = s_challenges[failure.Reason];
        return response.Body.WriteAsync(body, cancellationToken).AsTask();
    }
}
