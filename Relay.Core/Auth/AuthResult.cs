using System.Diagnostics.CodeAnalysis;

namespace Relay.Core.Auth;

/// <summary>The outcome of checking a token: a principal, or a failure.</summary>
public readonly struct AuthResult
{
    private AuthResult(RelayPrincipal? principal, AuthFailure? failure)
    {
        Principal = principal;
        Failure = failure;
    }

    /// <summary>Who the token speaks for, when <see cref="Succeeded"/>.</summary>
    public RelayPrincipal? Principal { get; }

    /// <summary>Why the token was refused, when not <see cref="Succeeded"/>.</summary>
    public AuthFailure? Failure { get; }

    /// <summary>Whether the token was accepted.</summary>
    [MemberNotNullWhen(true, nameof(Principal))]
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Principal is not null;

    /// <summary>An accepted token.</summary>
    public static AuthResult Success(RelayPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return new(principal, null);
    }

    /// <summary>A refused token.</summary>
    public static AuthResult Fail(AuthFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new(null, failure);
    }

    /// <summary>A refused token.</summary>
    public static AuthResult Fail(AuthFailureReason reason, string detail, string? claim = null) =>
        new(null, new AuthFailure(reason, detail, claim));

    /// <summary>The principal's subject and org, or the failure, for logs.</summary>
    public override string ToString() => Succeeded ? Principal.ToString() : Failure.ToString();
}
