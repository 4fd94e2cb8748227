using Relay.Core.Tenancy;
using Relay.Protocol;

namespace Relay.Core.Auth;

/// <summary>Who a verified token speaks for, and what it allows.</summary>
public sealed class RelayPrincipal
{
    /// <summary>Creates a principal; <see cref="TokenValidator"/> does this for verified tokens, with its clock skew.</summary>
    public RelayPrincipal(
        string subject, string orgId, TopicScopes scopes, DateTimeOffset expiresAt, string tokenId, int claimsVersion, string keyId,
        TimeSpan clockSkew)
    {
        Subject = subject;
        OrgId = orgId;
        Scopes = scopes;
        ExpiresAt = expiresAt;
        // An expiry within the skew of the calendar's end (exp = 253402300799, year 9999) would overflow.
        Deadline = expiresAt < DateTimeOffset.MaxValue - clockSkew ? expiresAt + clockSkew : DateTimeOffset.MaxValue;
        Audience = Audience.Of(orgId);
        TokenId = tokenId;
        ClaimsVersion = claimsVersion;
        KeyId = keyId;
    }

    /// <summary>The <c>sub</c> claim.</summary>
    public string Subject { get; }

    /// <summary>The <c>oa_org_id</c> claim: the client receives this organization's documents (and global ones).</summary>
    public string OrgId { get; }

    /// <summary>The <c>oa_sync_scopes</c> claim: the topics the client may subscribe to.</summary>
    public TopicScopes Scopes { get; }

    /// <summary>The <c>exp</c> claim.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>
    /// <see cref="ExpiresAt"/> plus the clock skew the token was accepted with: the last moment it is accepted, and the
    /// moment a connection it authorises gets <c>UNAUTHORIZED</c> and is closed. One rule for both, so a token is never
    /// accepted and then closed at once.
    /// </summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>Which documents this principal may receive: its organisation's and global ones.</summary>
    public Audience Audience { get; }

    /// <summary>The <c>jti</c> claim.</summary>
    public string TokenId { get; }

    /// <summary>The <c>oa_claims_version</c> claim, one of <see cref="AuthOptions.ClaimsVersions"/>.</summary>
    public int ClaimsVersion { get; }

    /// <summary>The <c>kid</c> of the key that signed the token, to follow a key rotation in the logs.</summary>
    public string KeyId { get; }

    /// <summary><c>sub@org (jti, kid)</c>, for logs.</summary>
    public override string ToString() => $"{Subject}@{OrgId} (jti {TokenId}, kid {KeyId})";
}
