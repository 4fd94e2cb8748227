using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Relay.Core.Diagnostics;

namespace Relay.Core.Auth;

/// <summary>
/// Verifies client tokens (CONTRACT.md §4, docs/auth.md): a compact JWS whose header names a configured key by
/// <c>kid</c>, signed with that key's one algorithm (HS256 for <see cref="AuthOptions.Keys"/>; RS256 or ES256 for
/// the RSA or EC keys of <see cref="AuthOptions.JwksFile"/>), within its lifetime, with every claim of <see cref="RelayClaims"/>.
/// Thread-safe; one instance serves every connection. It reads its <see cref="AuthOptions"/> once, when created.
/// </summary>
public sealed partial class TokenValidator
{
    /// <summary>Longer tokens are refused as <see cref="AuthFailureReason.Malformed"/> without being decoded: 16 KiB.</summary>
    public const int MaxTokenLength = 16 * 1024;

    private static readonly SearchValues<char> s_compactJwsChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private static readonly JsonDocumentOptions s_noDuplicates = new() { AllowDuplicateProperties = false };

    private readonly JsonWebTokenHandler _handler = new();
    private readonly TimeSpan _clockSkew;
    private readonly string? _issuer;
    private readonly string? _audience;
    private readonly FrozenDictionary<string, TokenValidationParameters> _hmacKeys;
    private readonly JwksKeySet? _jwks;
    private readonly int[] _claimsVersions;

    /// <summary>Checks the options and loads the keys.</summary>
    /// <param name="options">The <c>Relay:Auth</c> settings.</param>
    /// <param name="logger">Where JWKS loads and reloads are reported. Default: nowhere.</param>
    /// <param name="timeProvider">Paces the JWKS file checks. Default: <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="AuthConfigurationException">The settings or the JWKS file are invalid; the message lists why.</exception>
    public TokenValidator(AuthOptions options, ILogger<TokenValidator>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new AuthConfigurationException(errors);
        }
        _clockSkew = options.ClockSkew;
        _issuer = options.Issuer;
        _audience = options.Audience;
        _claimsVersions = [.. options.AcceptedClaimsVersions];
        _hmacKeys = options.DecodeKeys().ToFrozenDictionary(
            key => key.KeyId,
            key => Parameters(new SymmetricSecurityKey(key.Secret) { KeyId = key.KeyId }, SecurityAlgorithms.HmacSha256),
            StringComparer.Ordinal);
        if (_hmacKeys.Count > 0 && logger is not null)
        {
            // An operator rotating a key checks every node says the new kid before switching the issuer to it.
            Log.HmacKeys(logger, _hmacKeys.Count, string.Join(", ", _hmacKeys.Keys.Order(StringComparer.Ordinal)));
        }
        if (!string.IsNullOrEmpty(options.JwksFile))
        {
            var parser = new JwksParser(Parameters, _hmacKeys.Keys.ToFrozenSet(StringComparer.Ordinal));
            _jwks = new JwksKeySet(options.JwksFile, parser, timeProvider ?? TimeProvider.System, logger ?? NullLogger<TokenValidator>.Instance);
        }
    }

    /// <summary>Verifies <paramref name="token"/> (a compact JWT, without any <c>Bearer </c> prefix).</summary>
    /// <returns>The principal, or the reason the token is refused.</returns>
    public async ValueTask<AuthResult> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return AuthResult.Fail(AuthFailureReason.Missing, "no token was presented");
        }
        if (!IsCompactJws(token))
        {
            return AuthResult.Fail(AuthFailureReason.Malformed, $"not three base64url parts joined by dots, at most {MaxTokenLength} characters");
        }
        if (DuplicateMember(token) is { } duplicate)
        {
            return AuthResult.Fail(AuthFailureReason.Malformed, $"the header or the payload names a member twice ({duplicate})");
        }
        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException e)
        {
            // The innermost message names the member when a registered one has the wrong JSON type (an array for iss).
            return AuthResult.Fail(AuthFailureReason.Malformed,
                $"the header or the payload is not base64url-encoded JSON with registered claims of RFC 7519's types ({e.GetBaseException().Message})");
        }
        if (!TryGetParameters(jwt, out var parameters, out var refused))
        {
            return AuthResult.Fail(refused);
        }
        // Signature first, then lifetime, issuer and audience: nothing about the claims is told for a forged token.
        var result = await _handler.ValidateTokenAsync(jwt, parameters).ConfigureAwait(false);
        return result.IsValid ? ReadPrincipal(jwt) : AuthResult.Fail(FromValidationException(result.Exception));
    }

    /// <summary>
    /// Verifies a token sent in band to replace <paramref name="current"/>'s (<c>RefreshAuth</c>): it must be valid and
    /// pass <see cref="TokenRefresh.Check"/> (same organization, same subject).
    /// </summary>
    public async ValueTask<AuthResult> ValidateRefreshAsync(RelayPrincipal current, string? token)
    {
        ArgumentNullException.ThrowIfNull(current);
        var result = await ValidateAsync(token).ConfigureAwait(false);
        return result.Succeeded ? TokenRefresh.Check(current, result.Principal) : result;
    }

    private static bool IsCompactJws(string token)
    {
        if (token.Length > MaxTokenLength || token.AsSpan().ContainsAnyExcept(s_compactJwsChars))
        {
            return false;
        }
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        // The signature may be empty here (alg "none"): it is refused by algorithm, which says more in the logs.
        return first > 0 && second > first + 1 && token.IndexOf('.', second + 1) < 0;
    }

    /// <summary>
    /// Why the header or the payload names a member twice, or null. RFC 7515 §5.2 and RFC 7519 §7.2 let a recipient
    /// refuse such JSON, and IdentityModel would take the last: the organization a client is served must not depend on
    /// which of two <c>oa_org_id</c> an issuer's string building put last. A segment that is not base64url-encoded JSON
    /// is left to IdentityModel, which says so.
    /// </summary>
    private static string? DuplicateMember(string token)
    {
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = token.IndexOf('.', first + 1);
        return DuplicateMemberIn(token.AsSpan(0, first)) ?? DuplicateMemberIn(token.AsSpan(first + 1, second - first - 1));
    }

    private static string? DuplicateMemberIn(ReadOnlySpan<char> segment)
    {
        byte[] json;
        try
        {
            json = Base64Url.DecodeFromChars(segment);
        }
        catch (FormatException)
        {
            return null;
        }
        try
        {
            using var strict = JsonDocument.Parse(json, s_noDuplicates);
            return null;
        }
        catch (JsonException e) when (IsJson(json))
        {
            return e.Message;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsJson(byte[] json)
    {
        try
        {
            using var lenient = JsonDocument.Parse(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private bool TryGetParameters(
        JsonWebToken jwt, [NotNullWhen(true)] out TokenValidationParameters? parameters, [NotNullWhen(false)] out AuthFailure? refused)
    {
        parameters = null;
        var alg = jwt.Alg;
        var kid = jwt.Kid;
        if (alg is not (SecurityAlgorithms.HmacSha256 or SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.EcdsaSha256))
        {
            refused = new AuthFailure(AuthFailureReason.AlgorithmNotAllowed, $"alg '{alg}' is not HS256, RS256 or ES256");
            return false;
        }
        if (string.IsNullOrEmpty(kid))
        {
            refused = new AuthFailure(AuthFailureReason.UnknownKey, "the header has no kid");
            return false;
        }
        // RFC 7515 §4.1.11: a token whose crit names extensions the recipient does not understand is invalid; the
        // relay understands none.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            refused = new AuthFailure(AuthFailureReason.Malformed, "the header lists critical extensions (crit), which this relay does not support");
            return false;
        }
        // The key decides the algorithm, never the token: this is what defeats algorithm confusion. Each key's
        // parameters allow its one algorithm (Parameters).
        var found = _hmacKeys.GetValueOrDefault(kid) ?? _jwks?.Find(kid);
        var keyAlg = found?.ValidAlgorithms.Single();
        refused = found is null ? new AuthFailure(AuthFailureReason.UnknownKey, $"no configured key has kid '{kid}'")
            : alg != keyAlg ? new AuthFailure(AuthFailureReason.AlgorithmNotAllowed, $"kid '{kid}' is an {keyAlg} key but the token says {alg}")
            : null;
        parameters = refused is null ? found : null;
        return refused is null;
    }

    private TokenValidationParameters Parameters(SecurityKey key, string algorithm) => new()
    {
        IssuerSigningKey = key,
        ValidAlgorithms = [algorithm],
        TryAllIssuerSigningKeys = false,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = _clockSkew,
        ValidateIssuer = _issuer is not null,
        ValidIssuer = _issuer,
        ValidateAudience = _audience is not null,
        ValidAudience = _audience,
        // The audience as configured, exactly, as the issuer is (IdentityModel would take "khala-relay/" for "khala-relay").
        IgnoreTrailingSlashWhenValidatingAudience = false,
    };

    private static AuthFailure FromValidationException(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => new(AuthFailureReason.Expired, "exp is past, beyond the clock skew"),
        SecurityTokenNotYetValidException => new(AuthFailureReason.NotYetValid, "nbf is ahead, beyond the clock skew"),
        SecurityTokenNoExpirationException => new(AuthFailureReason.MissingClaim, "the token has no exp", RelayClaims.Expiration),
        SecurityTokenInvalidLifetimeException => new(AuthFailureReason.InvalidClaim, "nbf is after exp", "nbf"),
        SecurityTokenSignatureKeyNotFoundException => new(AuthFailureReason.UnknownKey, "the key named by kid was not found"),
        SecurityTokenInvalidSignatureException => new(AuthFailureReason.BadSignature, "the signature does not verify"),
        SecurityTokenInvalidAlgorithmException => new(AuthFailureReason.AlgorithmNotAllowed, "the algorithm is not the key's"),
        SecurityTokenInvalidIssuerException => new(AuthFailureReason.WrongIssuer, "iss is absent or not the configured issuer"),
        SecurityTokenInvalidAudienceException => new(AuthFailureReason.WrongAudience, "aud is absent or lacks the configured audience"),
        _ => new(AuthFailureReason.Malformed, exception?.Message ?? "refused without a reason"),
    };

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Auth + 5, LogLevel.Information, "Accepting tokens signed with {Count} HS256 keys: {KeyIds}")]
        public static partial void HmacKeys(ILogger logger, int count, string keyIds);
    }
}
