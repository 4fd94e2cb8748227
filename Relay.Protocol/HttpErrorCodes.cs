namespace Relay.Protocol;

/// <summary>
/// The <c>error</c> codes of the relay's HTTP error bodies, <c>{"error":"CODE","message":"…"}</c> (CONTRACT §3). Where a
/// WebSocket <c>ErrorCode</c> means the same, the name is the same.
/// </summary>
public static class HttpErrorCodes
{
    /// <summary>400: the request is malformed.</summary>
    public const string BadRequest = "BAD_REQUEST";

    /// <summary>401: no token, or one the relay refuses; the body names only the reason class.</summary>
    public const string Unauthorized = "UNAUTHORIZED";

    /// <summary>403: the token's scopes do not cover the topic.</summary>
    public const string ForbiddenTopic = "FORBIDDEN_TOPIC";

    /// <summary>404: no such document, or one this token may not see (never told apart).</summary>
    public const string NotFound = "NOT_FOUND";

    /// <summary>404: no such topic.</summary>
    public const string UnknownTopic = "UNKNOWN_TOPIC";

    /// <summary>405: the path exists but not for this method.</summary>
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";

    /// <summary>503: the relay is not ready or is restarting; retry with backoff.</summary>
    public const string Unavailable = "UNAVAILABLE";

    /// <summary>500 and other server failures.</summary>
    public const string Internal = "INTERNAL";
}
