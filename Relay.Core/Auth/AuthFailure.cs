namespace Relay.Core.Auth;

/// <summary>A refused token: the reason class a client may be told, and what the relay logs.</summary>
public sealed class AuthFailure
{
    /// <summary>Creates a failure.</summary>
    /// <param name="reason">The reason class.</param>
    /// <param name="detail">What exactly was wrong, for logs only.</param>
    /// <param name="claim">The claim concerned, if one is.</param>
    public AuthFailure(AuthFailureReason reason, string detail, string? claim = null)
    {
        Reason = reason;
        Detail = detail;
        Claim = claim;
    }

    /// <summary>The reason class.</summary>
    public AuthFailureReason Reason { get; }

    /// <summary>The reason class in snake_case (<c>expired</c>, <c>unknown_key</c>…), the form clients see.</summary>
    public string ReasonName => NameOf(Reason);

    /// <summary>The claim that is missing or invalid, for <see cref="AuthFailureReason.MissingClaim"/> and <see cref="AuthFailureReason.InvalidClaim"/>.</summary>
    public string? Claim { get; }

    /// <summary>What exactly was wrong, for the relay's logs. Never send it to a client.</summary>
    public string Detail { get; }

    /// <summary>The snake_case name of <paramref name="reason"/>, the form clients see.</summary>
    public static string NameOf(AuthFailureReason reason) => reason switch
    {
        AuthFailureReason.Missing => "missing",
        AuthFailureReason.Malformed => "malformed",
        AuthFailureReason.Expired => "expired",
        AuthFailureReason.NotYetValid => "not_yet_valid",
        AuthFailureReason.UnknownKey => "unknown_key",
        AuthFailureReason.BadSignature => "bad_signature",
        AuthFailureReason.AlgorithmNotAllowed => "algorithm_not_allowed",
        AuthFailureReason.MissingClaim => "missing_claim",
        AuthFailureReason.InvalidClaim => "invalid_claim",
        AuthFailureReason.UnknownClaimsVersion => "unknown_claims_version",
        AuthFailureReason.WrongIssuer => "wrong_issuer",
        AuthFailureReason.WrongAudience => "wrong_audience",
        AuthFailureReason.OrgMismatch => "org_mismatch",
        AuthFailureReason.SubjectMismatch => "subject_mismatch",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "not an AuthFailureReason"),
    };

    /// <summary><c>reason (claim): detail</c>, for logs.</summary>
    public override string ToString() => Claim is null ? $"{ReasonName}: {Detail}" : $"{ReasonName} ({Claim}): {Detail}";
}
