using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Relay.Host.Auth;

/// <summary>
/// Finds the client's token in a WebSocket upgrade request (docs/protocol/WS_MAPPING.md §1), taking the first of:
/// <c>Authorization: Bearer</c>, the <c>access_token</c> query parameter, and on the Phoenix endpoint the
/// <c>token</c> query parameter and the <c>authToken</c> subprotocol. It does not judge the token: a malformed one
/// is returned as found, for <see cref="Relay.Core.Auth.TokenValidator"/> to refuse.
/// </summary>
public static class TokenExtractor
{
    /// <summary>The query parameter of <see cref="TokenSource.AccessTokenQuery"/>: <c>access_token</c> (RFC 6750 §2.3).</summary>
    public const string AccessTokenParameter = "access_token";

    /// <summary>The query parameter of <see cref="TokenSource.PhoenixTokenParam"/>: <c>token</c>.</summary>
    public const string PhoenixTokenParameter = "token";

    /// <summary>
    /// The prefix of the <c>authToken</c> subprotocol entry. phoenix@1.8.16 defines
    /// <c>AUTH_TOKEN_PREFIX = "base64url.bearer.phx."</c> (assets/js/phoenix/constants.js) and offers
    /// <c>["phoenix", `${AUTH_TOKEN_PREFIX}${btoa(this.authToken()).replace(/=/g, "")}`]</c> (socket.js,
    /// <c>transportConnect</c>): standard base64 with the padding removed, despite the name.
    /// </summary>
    public const string PhoenixAuthTokenPrefix = "base64url.bearer.phx.";

    private const string BearerScheme = "Bearer ";

    /// <summary>The token of a request to <c>/sync/v1/ws</c>: the <c>Authorization</c> header, else <c>access_token</c>.</summary>
    public static ExtractedToken FromSyncRequest(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return FromHeader(request) is { } header ? new(header, TokenSource.AuthorizationHeader)
            : FromQuery(request, AccessTokenParameter) is { } query ? new(query, TokenSource.AccessTokenQuery)
            : ExtractedToken.None;
    }

    /// <summary>
    /// The token of a request to <c>/socket/websocket</c>: as <see cref="FromSyncRequest"/>, else the <c>token</c>
    /// connect param, else the <c>authToken</c> subprotocol.
    /// </summary>
    public static ExtractedToken FromPhoenixRequest(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return FromSyncRequest(request) is { Source: not TokenSource.None } found ? found
            : FromQuery(request, PhoenixTokenParameter) is { } param ? new(param, TokenSource.PhoenixTokenParam)
            : FromSubprotocol(request) is { } subprotocol ? new(subprotocol, TokenSource.PhoenixAuthTokenSubprotocol)
            : ExtractedToken.None;
    }

    private static string? FromHeader(HttpRequest request)
    {
        var value = request.Headers.Authorization.ToString();
        // Another scheme (Basic from a proxy, say) is not ours: look further.
        return value.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase) && value.AsSpan(BearerScheme.Length).Trim() is { IsEmpty: false } token
            ? token.ToString()
            : null;
    }

    private static string? FromQuery(HttpRequest request, string name) =>
        request.Query[name] is { Count: > 0 } values && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    private static string? FromSubprotocol(HttpRequest request)
    {
        foreach (var protocol in request.Headers.GetCommaSeparatedValues(HeaderNames.SecWebSocketProtocol))
        {
            if (protocol.StartsWith(PhoenixAuthTokenPrefix, StringComparison.Ordinal) && protocol.Length > PhoenixAuthTokenPrefix.Length)
            {
                var encoded = protocol.AsSpan(PhoenixAuthTokenPrefix.Length);
                // Undecodable text goes on as it is, to be refused as malformed rather than missing.
                return DecodeBase64(encoded) ?? encoded.ToString();
            }
        }
        return null;
    }

    // Standard (what phoenix.js sends) or URL-safe alphabet, padded or not.
    private static string? DecodeBase64(ReadOnlySpan<char> encoded)
    {
        var urlSafe = encoded.Length <= 1024 ? stackalloc char[encoded.Length] : new char[encoded.Length];
        encoded.CopyTo(urlSafe);
        urlSafe.Replace('+', '-');
        urlSafe.Replace('/', '_');
        var bytes = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(urlSafe.Length));
        try
        {
            return Base64Url.DecodeFromChars(urlSafe.TrimEnd('='), bytes, out _, out var written) == OperationStatus.Done
                ? Encoding.UTF8.GetString(bytes, 0, written)
                : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
