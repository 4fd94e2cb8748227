using Microsoft.AspNetCore.Http;
using Relay.Core.Auth;
using Relay.Host.Auth;

namespace Relay.Tests.Auth;

/// <summary>A refused upgrade is a 401 that tells the reason class and nothing else.</summary>
[TestFixture]
public sealed class UnauthorizedResponseTests
{
    private static async Task<(HttpResponse Response, string Body)> WriteAsync(AuthFailure failure)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        await context.Response.WriteUnauthorizedAsync(failure);

        return (context.Response, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }

    [Test]
    public async Task WriteUnauthorized_expired_isA401WithTheReasonClassOnly()
    {
        var (response, body) = await WriteAsync(new AuthFailure(AuthFailureReason.Expired, "exp 1700000000 is past"));

        Assert.That(response.StatusCode, Is.EqualTo(401));
        Assert.That(body, Is.EqualTo("""{"error":"UNAUTHORIZED","reason":"expired"}"""));
        Assert.That(response.ContentType, Is.EqualTo("application/json"));
        Assert.That(response.Headers.CacheControl.ToString(), Is.EqualTo("no-store"));
        Assert.That(response.Headers.WWWAuthenticate.ToString(), Is.EqualTo("Bearer error=\"invalid_token\", error_description=\"expired\""));
    }

    [Test]
    public async Task WriteUnauthorized_missingClaim_doesNotNameTheClaim()
    {
        var (_, body) = await WriteAsync(new AuthFailure(AuthFailureReason.MissingClaim, "the token has no oa_org_id", RelayClaims.OrgId));

        Assert.That(body, Is.EqualTo("""{"error":"UNAUTHORIZED","reason":"missing_claim"}"""));
    }

    [Test]
    public async Task WriteUnauthorized_missingToken_challengesWithoutAnError()
    {
        var (response, body) = await WriteAsync(new AuthFailure(AuthFailureReason.Missing, "no token"));

        Assert.That(body, Is.EqualTo("""{"error":"UNAUTHORIZED","reason":"missing"}"""));
        Assert.That(response.Headers.WWWAuthenticate.ToString(), Is.EqualTo("Bearer"));
    }

    [Test]
    public void ReasonNames_areDistinctSnakeCase()
    {
        var names = Enum.GetValues<AuthFailureReason>().Select(AuthFailure.NameOf).ToList();

        Assert.That(names, Is.Unique);
        Assert.That(names, Has.All.Match("^[a-z]+(_[a-z]+)*$"));
    }
}
