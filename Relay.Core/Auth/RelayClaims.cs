namespace Relay.Core.Auth;

/// <summary>The JWT claims the relay reads (CONTRACT.md §4). Every one of them is required.</summary>
public static class RelayClaims
{
    /// <summary><c>sub</c>: who the token was issued to.</summary>
    public const string Subject = "sub";

    /// <summary><c>oa_org_id</c>: the organization whose documents the client may receive.</summary>
    public const string OrgId = "oa_org_id";

    /// <summary><c>oa_sync_scopes</c>: the topics the client may subscribe to (see <see cref="Relay.Protocol.TopicScopes"/>).</summary>
    public const string SyncScopes = "oa_sync_scopes";

    /// <summary><c>exp</c>: when the token expires (seconds since the Unix epoch).</summary>
    public const string Expiration = "exp";

    /// <summary><c>jti</c>: the token's unique id, for logs and audits.</summary>
    public const string TokenId = "jti";

    /// <summary><c>oa_claims_version</c>: the version of this claim set, an integer; see <see cref="AuthOptions.ClaimsVersions"/>.</summary>
    public const string ClaimsVersion = "oa_claims_version";

    /// <summary>The claims version this relay defines and development tokens carry: 1.</summary>
    public const int CurrentClaimsVersion = 1;
}
