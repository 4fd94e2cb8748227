namespace Relay.Host.Auth;

/// <summary>Where in an upgrade request a token was found (<see cref="TokenExtractor"/>).</summary>
public enum TokenSource
{
    /// <summary>Nowhere: the request carries no token.</summary>
    None,

    /// <summary>The <c>Authorization: Bearer</c> header.</summary>
    AuthorizationHeader,

    /// <summary>The <c>access_token</c> query parameter (browsers cannot set headers on a WebSocket).</summary>
    AccessTokenQuery,

    /// <summary>Phoenix: the <c>token</c> connect param, which phoenix.js sends in the query string.</summary>
    PhoenixTokenParam,

    /// <summary>
    /// Phoenix: the <c>authToken</c> socket option, offered as a <c>Sec-WebSocket-Protocol</c> entry. The upgrade must
    /// then select the <c>phoenix</c> subprotocol, which the client offers beside it, or browsers drop the connection.
    /// </summary>
    PhoenixAuthTokenSubprotocol,
}
