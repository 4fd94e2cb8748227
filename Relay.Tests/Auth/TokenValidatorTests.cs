using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>One test per way a token is refused, and what an accepted token yields.</summary>
[TestFixture]
public sealed class TokenValidatorTests
{
    private static readonly HmacKey s_key = TokenForge.NewKey("hs-1");

    private static TokenValidator Validator(Action<AuthOptions>? configure = null)
    {
        var options = TokenForge.Options(s_key);
        configure?.Invoke(options);
        return new TokenValidator(options);
    }

    private static async Task<AuthFailure> RefusedAsync(TokenValidator validator, string? token)
    {
        var result = await validator.ValidateAsync(token);
        Assert.That(result.Succeeded, Is.False, "the token was accepted");
        return result.Failure!;
    }

    private static async Task<AuthFailureReason> ReasonAsync(string? token, Action<AuthOptions>? configure = null) =>
        (await RefusedAsync(Validator(configure), token)).Reason;

    [Test]
    public async Task Validate_validHs256Token_returnsThePrincipal()
    {
        var claims = TokenForge.Claims();
        var result = await Validator().ValidateAsync(TokenForge.Hs256(s_key, claims));

        Assert.That(result.Succeeded, Is.True, result.ToString());
        var principal = result.Principal!;
        Assert.That(principal.Subject, Is.EqualTo("user_1"));
        Assert.That(principal.OrgId, Is.EqualTo("org_1"));
        Assert.That(principal.TokenId, Is.EqualTo("jti_1"));
        Assert.That(principal.ClaimsVersion, Is.EqualTo(1));
        Assert.That(principal.KeyId, Is.EqualTo("hs-1"));
        Assert.That(principal.ExpiresAt, Is.EqualTo(DateTimeOffset.FromUnixTimeSeconds((long)claims["exp"]!)));
        Assert.That(principal.Scopes.Entries, Is.EqualTo(new[] { "runtime.*", "audit.events" }));
        Assert.That(principal.Scopes.Allows("runtime.run_summaries"), Is.True);
    }

    [TestCase(null)]
    [TestCase("")]
    public async Task Validate_noToken_isMissing(string? token) =>
        Assert.That(await ReasonAsync(token), Is.EqualTo(AuthFailureReason.Missing));

    [TestCase("not-a-jwt")]
    [TestCase("a.b")]
    [TestCase("a.b.c.d")]
    [TestCase(".payload.signature")]
    [TestCase("eyJhbGciOiJIUzI1NiJ9..sig")]
    [TestCase("he ader.payload.signature")]
    [TestCase("bm90IGpzb24.bm90IGpzb24.c2ln")]
    public async Task Validate_malformedToken_isMalformed(string token) =>
        Assert.That(await ReasonAsync(token), Is.EqualTo(AuthFailureReason.Malformed));

    [TestCase(false)]
    [TestCase(true)]
    public async Task Validate_memberNamedTwice_isMalformed_namingIt(bool inHeader)
    {
        // Before, IdentityModel took the last: a token naming org-a then org-b was served org-b's documents, so the
        // organization depended on which of two an issuer's string building put last (protocol review P1).
        var claims = TokenForge.Claims();
        var payload = claims.ToJsonString();
        var header = TokenForge.Header("HS256", s_key.KeyId).ToJsonString();
        var token = inHeader
            ? TokenForge.Hs256Text(s_key, header.Replace("{", "{\"alg\":\"none\",", StringComparison.Ordinal), payload)
            : TokenForge.Hs256Text(s_key, header, payload.Replace("{", "{\"oa_org_id\":\"org-a\",", StringComparison.Ordinal));

        var failure = await RefusedAsync(Validator(), token);

        Assert.That(failure.Reason, Is.EqualTo(AuthFailureReason.Malformed));
        Assert.That(failure.Detail, Does.StartWith("the header or the payload names a member twice").And.Contain(inHeader ? "alg" : "oa_org_id"));
        Assert.That((await Validator().ValidateAsync(TokenForge.Hs256Text(s_key, header, payload))).Succeeded, Is.True, "the same token without the second member");
    }

    [Test]
    public async Task Validate_tokenLongerThanTheLimit_isMalformed()
    {
        var claims = TokenForge.Claims();
        claims["padding"] = new string('x', TokenValidator.MaxTokenLength);

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims)), Is.EqualTo(AuthFailureReason.Malformed));
    }

    [Test]
    public async Task Validate_expiredBeyondClockSkew_isExpired()
    {
        var claims = TokenForge.Claims();
        claims["exp"] = TokenForge.Now - 60;

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims)), Is.EqualTo(AuthFailureReason.Expired));
    }

    [Test]
    public async Task Validate_expiredWithinClockSkew_succeeds()
    {
        var claims = TokenForge.Claims();
        claims["exp"] = TokenForge.Now - 5;

        Assert.That((await Validator().ValidateAsync(TokenForge.Hs256(s_key, claims))).Succeeded, Is.True);
    }

    [Test]
    public async Task Validate_expiryAtTheEndOfTheCalendar_succeedsWithThatDeadline()
    {
        var claims = TokenForge.Claims();
        claims["exp"] = 253402300799; // 9999-12-31T23:59:59Z: adding the clock skew would overflow.

        var result = await Validator().ValidateAsync(TokenForge.Hs256(s_key, claims));

        Assert.That(result.Succeeded, Is.True, result.ToString());
        Assert.That(result.Principal!.Deadline, Is.EqualTo(DateTimeOffset.MaxValue));
    }

    [Test]
    public async Task Validate_criticalHeaderExtension_isMalformed()
    {
        var header = TokenForge.Header("HS256", s_key.KeyId);
        header["crit"] = new JsonArray("urn:example:must-understand");
        header["urn:example:must-understand"] = true;

        var failure = await RefusedAsync(Validator(), TokenForge.HmacWith(s_key.Secret, header));

        Assert.That(failure.Reason, Is.EqualTo(AuthFailureReason.Malformed));
        Assert.That(failure.Detail, Does.Contain("crit"));
    }

    [Test]
    public async Task Validate_notYetValid_isNotYetValid()
    {
        var claims = TokenForge.Claims();
        claims["nbf"] = TokenForge.Now + 120;

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims)), Is.EqualTo(AuthFailureReason.NotYetValid));
    }

    [Test]
    public async Task Validate_unknownKid_isUnknownKey() =>
        Assert.That(await ReasonAsync(TokenForge.Hs256(TokenForge.NewKey("hs-unknown"))), Is.EqualTo(AuthFailureReason.UnknownKey));

    [Test]
    public async Task Validate_noKid_isUnknownKey() =>
        Assert.That(await ReasonAsync(TokenForge.HmacWith(s_key.Secret, TokenForge.Header("HS256", kid: null))),
            Is.EqualTo(AuthFailureReason.UnknownKey));

    [Test]
    public async Task Validate_wrongSignature_isBadSignature() =>
        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key with { Secret = RandomNumberGenerator.GetBytes(32) })),
            Is.EqualTo(AuthFailureReason.BadSignature));

    [Test]
    public async Task Validate_tamperedPayload_isBadSignature()
    {
        var parts = TokenForge.Hs256(s_key).Split('.');
        var forged = TokenForge.Claims();
        forged["oa_org_id"] = "org_2";

        Assert.That(await ReasonAsync($"{parts[0]}.{TokenForge.Encode(forged)}.{parts[2]}"), Is.EqualTo(AuthFailureReason.BadSignature));
    }

    [TestCase("none")]
    [TestCase("None")]
    public async Task Validate_algNone_isAlgorithmNotAllowed(string alg)
    {
        var token = $"{TokenForge.Encode(TokenForge.Header(alg, s_key.KeyId))}.{TokenForge.Encode(TokenForge.Claims())}.";

        Assert.That(await ReasonAsync(token), Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
    }

    [Test]
    public async Task Validate_otherHmacAlgorithm_isAlgorithmNotAllowed()
    {
        var token = TokenForge.Sign(TokenForge.Header("HS512", s_key.KeyId), TokenForge.Claims(), input => HMACSHA512.HashData(s_key.Secret, input));

        Assert.That(await ReasonAsync(token), Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
    }

    [TestCase("sub")]
    [TestCase("oa_org_id")]
    [TestCase("oa_sync_scopes")]
    [TestCase("exp")]
    [TestCase("jti")]
    [TestCase("oa_claims_version")]
    public async Task Validate_missingRequiredClaim_isMissingClaimNamingIt(string claim)
    {
        var claims = TokenForge.Claims();
        claims.Remove(claim);

        var failure = await RefusedAsync(Validator(), TokenForge.Hs256(s_key, claims));

        Assert.That(failure.Reason, Is.EqualTo(AuthFailureReason.MissingClaim));
        Assert.That(failure.Claim, Is.EqualTo(claim));
    }

    [TestCase("sub", "")]
    [TestCase("oa_org_id", "")]
    [TestCase("oa_org_id", 42)]
    [TestCase("oa_org_id", true)]
    [TestCase("jti", "")]
    [TestCase("oa_org_id", "org-a\u0000")]
    [TestCase("sub", "user\u0000")]
    [TestCase("jti", "id\u0007")]
    [TestCase("oa_claims_version", "1")]
    [TestCase("oa_claims_version", 1.5)]
    [TestCase("oa_sync_scopes", 7)]
    [TestCase("exp", "4102444800")]
    [TestCase("nbf", "1000000000")]
    [TestCase("oa_sync_scopes", "runtime.* Bad-Topic")]
    public async Task Validate_mistypedClaim_isInvalidClaimNamingIt(string claim, object value)
    {
        var claims = TokenForge.Claims();
        claims[claim] = value switch
        {
            string text => JsonValue.Create(text),
            bool flag => JsonValue.Create(flag),
            double number => JsonValue.Create(number),
            _ => JsonValue.Create(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
        };

        var failure = await RefusedAsync(Validator(), TokenForge.Hs256(s_key, claims));

        Assert.That(failure.Reason, Is.EqualTo(AuthFailureReason.InvalidClaim));
        Assert.That(failure.Claim, Is.EqualTo(claim));
    }

    [TestCase(2)]
    [TestCase(0)]
    [TestCase(9_000_000_000)]
    public async Task Validate_unknownClaimsVersion_isUnknownClaimsVersion(long version)
    {
        var claims = TokenForge.Claims();
        claims["oa_claims_version"] = version;

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims)), Is.EqualTo(AuthFailureReason.UnknownClaimsVersion));
    }

    [Test]
    public async Task Validate_configuredClaimsVersion_succeeds()
    {
        var claims = TokenForge.Claims();
        claims["oa_claims_version"] = 2;

        var result = await Validator(options => options.ClaimsVersions.Add(2)).ValidateAsync(TokenForge.Hs256(s_key, claims));

        Assert.That(result.Principal?.ClaimsVersion, Is.EqualTo(2));
    }

    [TestCase("https://other.example")]
    [TestCase(null)]
    public async Task Validate_wrongIssuerWhenConfigured_isWrongIssuer(string? issuer)
    {
        var claims = TokenForge.Claims();
        if (issuer is null)
        {
            claims.Remove("iss");
        }
        else
        {
            claims["iss"] = issuer;
        }

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims), options => options.Issuer = "https://auth.example"),
            Is.EqualTo(AuthFailureReason.WrongIssuer));
    }

    [Test]
    public async Task Validate_issuerGivenAsAnArray_isMalformed_namingIss()
    {
        // RFC 7519 §4.1.1: iss is one string. Before, the log said only "not base64url-encoded JSON", which sent an
        // operator to the encoding rather than to the claim.
        var claims = TokenForge.Claims();
        claims["iss"] = new System.Text.Json.Nodes.JsonArray("https://auth.example");

        var result = await Validator(options => options.Issuer = "https://auth.example").ValidateAsync(TokenForge.Hs256(s_key, claims));

        Assert.That(result.Failure?.Reason, Is.EqualTo(AuthFailureReason.Malformed));
        Assert.That(result.Failure?.Detail, Does.Contain("JsonWebToken.iss'"));
    }

    [TestCase("other-audience")]
    [TestCase("khala-relay/")]
    [TestCase(null)]
    public async Task Validate_wrongAudienceWhenConfigured_isWrongAudience(string? audience)
    {
        var claims = TokenForge.Claims();
        if (audience is null)
        {
            claims.Remove("aud");
        }
        else
        {
            claims["aud"] = audience;
        }

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key, claims), options => options.Audience = "khala-relay"),
            Is.EqualTo(AuthFailureReason.WrongAudience));
    }

    [Test]
    public async Task Validate_configuredIssuerAndAudience_succeeds()
    {
        var claims = TokenForge.Claims();
        claims["iss"] = "https://auth.example";
        claims["aud"] = new JsonArray("other", "khala-relay");

        var result = await Validator(options =>
        {
            options.Issuer = "https://auth.example";
            options.Audience = "khala-relay";
        }).ValidateAsync(TokenForge.Hs256(s_key, claims));

        Assert.That(result.Succeeded, Is.True, result.ToString());
    }

    [Test]
    public async Task Validate_forgedTokenWithBadClaims_isBadSignatureNotMissingClaim()
    {
        var claims = TokenForge.Claims();
        claims.Remove("sub");

        Assert.That(await ReasonAsync(TokenForge.Hs256(s_key with { Secret = RandomNumberGenerator.GetBytes(32) }, claims)),
            Is.EqualTo(AuthFailureReason.BadSignature));
    }
}
