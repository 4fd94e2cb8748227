using System.Text.Json.Nodes;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>An in-band refresh keeps the connection's organization and subject.</summary>
[TestFixture]
public sealed class TokenRefreshTests
{
    private static readonly HmacKey s_key = TokenForge.NewKey("hs-1");
    private readonly TokenValidator _validator = new(TokenForge.Options(s_key));

    private async Task<RelayPrincipal> CurrentAsync() =>
        (await _validator.ValidateAsync(TokenForge.Hs256(s_key))).Principal!;

    private static string TokenWith(string claim, string value)
    {
        var claims = TokenForge.Claims();
        claims[claim] = value;
        return TokenForge.Hs256(s_key, claims);
    }

    [Test]
    public async Task ValidateRefresh_tokenOfAnotherOrg_isOrgMismatch()
    {
        var result = await _validator.ValidateRefreshAsync(await CurrentAsync(), TokenWith("oa_org_id", "org_2"));

        Assert.That(result.Failure?.Reason, Is.EqualTo(AuthFailureReason.OrgMismatch));
        Assert.That(result.Failure?.ReasonName, Is.EqualTo("org_mismatch"));
    }

    [Test]
    public async Task ValidateRefresh_tokenOfAnotherSubject_isSubjectMismatch() =>
        Assert.That((await _validator.ValidateRefreshAsync(await CurrentAsync(), TokenWith("sub", "user_2"))).Failure?.Reason,
            Is.EqualTo(AuthFailureReason.SubjectMismatch));

    [Test]
    public async Task ValidateRefresh_sameOrgAndSubjectWithNewScopes_returnsTheNewPrincipal()
    {
        var claims = TokenForge.Claims();
        claims["oa_sync_scopes"] = new JsonArray("runtime.notifications");
        claims["jti"] = "jti_2";

        var result = await _validator.ValidateRefreshAsync(await CurrentAsync(), TokenForge.Hs256(s_key, claims));

        Assert.That(result.Principal?.TokenId, Is.EqualTo("jti_2"));
        Assert.That(result.Principal?.Scopes.Allows("runtime.run_summaries"), Is.False);
    }

    [Test]
    public async Task ValidateRefresh_invalidToken_isRefusedForItsOwnReason()
    {
        var claims = TokenForge.Claims();
        claims["exp"] = TokenForge.Now - 120;

        Assert.That((await _validator.ValidateRefreshAsync(await CurrentAsync(), TokenForge.Hs256(s_key, claims))).Failure?.Reason,
            Is.EqualTo(AuthFailureReason.Expired));
    }
}
