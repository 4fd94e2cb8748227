namespace Relay.Core.Auth;

/// <summary>
/// Why a token was refused: the only detail a client is told (as <see cref="AuthFailure.ReasonName"/>). The claim and
/// the explanation in <see cref="AuthFailure"/> are for the relay's logs.
/// </summary>
public enum AuthFailureReason
{
    /// <summary>No token was presented (<c>missing</c>).</summary>
    Missing,

    /// <summary>Not a compact JWS with a JSON header and payload, or longer than <see cref="TokenValidator.MaxTokenLength"/> (<c>malformed</c>).</summary>
    Malformed,

    /// <summary><c>exp</c> is in the past, beyond the clock skew (<c>expired</c>).</summary>
    Expired,

    /// <summary><c>nbf</c> is in the future, beyond the clock skew (<c>not_yet_valid</c>).</summary>
    NotYetValid,

    /// <summary>The header has no <c>kid</c>, or no configured key has it (<c>unknown_key</c>).</summary>
    UnknownKey,

    /// <summary>The signature does not verify with the key named by <c>kid</c> (<c>bad_signature</c>).</summary>
    BadSignature,

    /// <summary>
    /// <c>alg</c> is not the one algorithm of the key named by <c>kid</c>: HS256 for <c>Relay:Auth:Keys</c>; RS256 or
    /// ES256 for an RSA or EC key of the JWKS file. Covers <c>alg: none</c> and algorithm confusion (<c>algorithm_not_allowed</c>).
    /// </summary>
    AlgorithmNotAllowed,

    /// <summary>A required claim is absent; <see cref="AuthFailure.Claim"/> names it (<c>missing_claim</c>).</summary>
    MissingClaim,

    /// <summary>A claim has the wrong type or a malformed value, such as a bad scope entry (<c>invalid_claim</c>).</summary>
    InvalidClaim,

    /// <summary><c>oa_claims_version</c> is not one of <see cref="AuthOptions.ClaimsVersions"/> (<c>unknown_claims_version</c>).</summary>
    UnknownClaimsVersion,

    /// <summary><c>iss</c> is absent or not <see cref="AuthOptions.Issuer"/>, when that is configured (<c>wrong_issuer</c>).</summary>
    WrongIssuer,

    /// <summary><c>aud</c> is absent or does not include <see cref="AuthOptions.Audience"/>, when that is configured (<c>wrong_audience</c>).</summary>
    WrongAudience,

    /// <summary>An in-band refresh presented a token of another organization (<c>org_mismatch</c>).</summary>
    OrgMismatch,

    /// <summary>An in-band refresh presented a token of another subject (<c>subject_mismatch</c>).</summary>
    SubjectMismatch,
}
