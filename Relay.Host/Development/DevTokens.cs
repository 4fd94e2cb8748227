using Relay.Protocol;
using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Relay.Core.Auth;

namespace Relay.Host.Development;

/// <summary>
/// Development tokens: HS256 tokens minted by the relay itself (<c>relay token</c>, <c>relay up</c>), and the
/// development key they are signed with when no key is configured.
/// </summary>
public static partial class DevTokens
{
    private static readonly JsonWebTokenHandler s_handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// Mints an HS256 token signed with <paramref name="key"/>: header <c>kid</c> = <see cref="HmacKey.KeyId"/>; claims
    /// <c>sub</c>, <c>oa_org_id</c>, <c>oa_sync_scopes</c> (an array), <c>jti</c> (128 random bits),
    /// <c>oa_claims_version</c> = <see cref="RelayClaims.CurrentClaimsVersion"/>, <c>iat</c> = <c>nbf</c> = now,
    /// <c>exp</c> = now + <see cref="DevTokenRequest.TimeToLive"/>, and <c>iss</c> and <c>aud</c> when requested.
    /// </summary>
    /// <exception cref="ArgumentException">The request is invalid: empty subject or org, a malformed scope, a non-positive lifetime.</exception>
    public static string Mint(HmacKey key, DevTokenRequest request, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Subject, nameof(request));
        ArgumentException.ThrowIfNullOrWhiteSpace(request.OrgId, nameof(request));
        if (!TopicScopes.TryCreate(request.Scopes, out _, out var error))
        {
            throw new ArgumentException($"scopes: {error}", nameof(request));
        }
        if (request.TimeToLive <= TimeSpan.Zero)
        {
            throw new ArgumentException($"the lifetime must be positive, not {request.TimeToLive}", nameof(request));
        }
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [RelayClaims.Subject] = request.Subject,
            [RelayClaims.OrgId] = request.OrgId,
            [RelayClaims.SyncScopes] = request.Scopes.ToArray(),
            [RelayClaims.TokenId] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
            [RelayClaims.ClaimsVersion] = RelayClaims.CurrentClaimsVersion,
        };
        return s_handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + request.TimeToLive,
            Issuer = request.Issuer,
            Audience = request.Audience,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(key.Secret) { KeyId = key.KeyId }, SecurityAlgorithms.HmacSha256),
        });
    }
}
