using System.Text;
using Microsoft.AspNetCore.Http;
using Relay.Host.Auth;

namespace Relay.Tests.Auth;

/// <summary>Each place a token travels in an upgrade request (WS_MAPPING.md §1), and which one wins.</summary>
[TestFixture]
public sealed class TokenExtractorTests
{
    private const string Jwt = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImRldi0xIn0.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl";

    private static HttpRequest Request(string? authorization = null, string query = "", params string[] subprotocols)
    {
        var context = new DefaultHttpContext();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }
        context.Request.QueryString = new QueryString(query);
        if (subprotocols.Length > 0)
        {
            context.Request.Headers.SecWebSocketProtocol = subprotocols;
        }
        return context.Request;
    }

    // What phoenix.js 1.8.16 offers: btoa(token) without the "=" padding.
    private static string PhoenixSubprotocol(string token) =>
        TokenExtractor.PhoenixAuthTokenPrefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(token)).TrimEnd('=');

    [Test]
    public void FromSyncRequest_bearerHeader_isFound() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request($"Bearer {Jwt}")), Is.EqualTo(new ExtractedToken(Jwt, TokenSource.AuthorizationHeader)));

    [Test]
    public void FromSyncRequest_bearerSchemeInAnyCase_isFound() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request($"bearer {Jwt}")).Token, Is.EqualTo(Jwt));

    [Test]
    public void FromSyncRequest_accessTokenQuery_isFound() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request(query: $"?access_token={Jwt}")),
            Is.EqualTo(new ExtractedToken(Jwt, TokenSource.AccessTokenQuery)));

    [Test]
    public void FromSyncRequest_headerAndQuery_prefersTheHeader() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request($"Bearer {Jwt}", "?access_token=other")).Token, Is.EqualTo(Jwt));

    [Test]
    public void FromSyncRequest_otherSchemeThenQuery_findsTheQuery() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request("Basic dXNlcjpwYXNz", $"?access_token={Jwt}")).Source,
            Is.EqualTo(TokenSource.AccessTokenQuery));

    [Test]
    public void FromSyncRequest_phoenixSources_areIgnored() =>
        Assert.That(TokenExtractor.FromSyncRequest(Request(query: $"?token={Jwt}", subprotocols: PhoenixSubprotocol(Jwt))),
            Is.EqualTo(ExtractedToken.None));

    [TestCase("Bearer ")]
    [TestCase("Bearer")]
    [TestCase("")]
    public void FromSyncRequest_emptyBearer_isNone(string authorization) =>
        Assert.That(TokenExtractor.FromSyncRequest(Request(authorization, "?access_token=")).Source, Is.EqualTo(TokenSource.None));

    [Test]
    public void FromPhoenixRequest_tokenConnectParam_isFound() =>
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(query: $"?vsn=2.0.0&token={Jwt}")),
            Is.EqualTo(new ExtractedToken(Jwt, TokenSource.PhoenixTokenParam)));

    [Test]
    public void FromPhoenixRequest_authTokenSubprotocol_isDecoded() =>
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(query: "?vsn=2.0.0", subprotocols: ["phoenix", PhoenixSubprotocol(Jwt)])),
            Is.EqualTo(new ExtractedToken(Jwt, TokenSource.PhoenixAuthTokenSubprotocol)));

    [Test]
    public void FromPhoenixRequest_authTokenSubprotocolInOneHeaderValue_isDecoded() =>
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(subprotocols: $"phoenix, {PhoenixSubprotocol(Jwt)}")).Token, Is.EqualTo(Jwt));

    [Test]
    public void FromPhoenixRequest_authTokenSubprotocolInUrlAlphabet_isDecoded()
    {
        // A token whose base64 has '+' and '/' in the standard alphabet.
        const string token = "a>>?b.c~~~.d";
        var urlSafe = TokenExtractor.PhoenixAuthTokenPrefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(token))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        Assert.That(PhoenixSubprotocol(token), Does.Contain("+").Or.Contain("/"));
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(subprotocols: urlSafe)).Token, Is.EqualTo(token));
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(subprotocols: PhoenixSubprotocol(token))).Token, Is.EqualTo(token));
    }

    [Test]
    public void FromPhoenixRequest_undecodableSubprotocol_isPassedOnAsFound() =>
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(subprotocols: TokenExtractor.PhoenixAuthTokenPrefix + "a")).Token,
            Is.EqualTo("a"));

    [Test]
    public void FromPhoenixRequest_everySource_followsTheDocumentedOrder()
    {
        var all = Request("Bearer header", "?access_token=query&token=param", PhoenixSubprotocol("subprotocol"));
        var noHeader = Request(query: "?access_token=query&token=param", subprotocols: PhoenixSubprotocol("subprotocol"));
        var paramAndSubprotocol = Request(query: "?token=param", subprotocols: PhoenixSubprotocol("subprotocol"));

        Assert.That(TokenExtractor.FromPhoenixRequest(all).Token, Is.EqualTo("header"));
        Assert.That(TokenExtractor.FromPhoenixRequest(noHeader).Token, Is.EqualTo("query"));
        Assert.That(TokenExtractor.FromPhoenixRequest(paramAndSubprotocol).Token, Is.EqualTo("param"));
    }

    [Test]
    public void FromPhoenixRequest_nothing_isNone() =>
        Assert.That(TokenExtractor.FromPhoenixRequest(Request(query: "?vsn=2.0.0", subprotocols: "phoenix")), Is.EqualTo(ExtractedToken.None));
}
