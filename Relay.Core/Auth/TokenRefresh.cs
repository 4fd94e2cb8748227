namespace Relay.Core.Auth;

/// <summary>
/// The rule for a token sent in band to replace a connection's token (<c>RefreshAuth</c>, Phoenix <c>refresh_auth</c>):
/// it must speak for the same organization and the same subject. Its scopes and expiry may differ.
/// </summary>
public static class TokenRefresh
{
    /// <summary>
    /// Whether <paramref name="next"/> may replace <paramref name="current"/>: the result holds <paramref name="next"/>,
    /// or fails with <see cref="AuthFailureReason.OrgMismatch"/> or <see cref="AuthFailureReason.SubjectMismatch"/>.
    /// </summary>
    public static AuthResult Check(RelayPrincipal current, RelayPrincipal next)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        if (!string.Equals(current.OrgId, next.OrgId, StringComparison.Ordinal))
        {
            return AuthResult.Fail(AuthFailureReason.OrgMismatch,
                $"the new token is for organization '{next.OrgId}', the connection's for '{current.OrgId}'", RelayClaims.OrgId);
        }
        if (!string.Equals(current.Subject, next.Subject, StringComparison.Ordinal))
        {
            return AuthResult.Fail(AuthFailureReason.SubjectMismatch,
                $"the new token is for subject '{next.Subject}', the connection's for '{current.Subject}'", RelayClaims.Subject);
        }
        return AuthResult.Success(next);
    }
}
