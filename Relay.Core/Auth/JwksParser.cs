using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Relay.Core.Auth;

/// <summary>
/// Turns a JWKS document into validation parameters by <c>kid</c>, keeping only what can verify RS256: RSA keys of
/// at least 2048 bits with a <c>kid</c>, whose <c>use</c> (if any) is <c>sig</c> and <c>alg</c> (if any) is RS256,
/// public keys only.
/// Every other entry is reported as ignored, with the reason.
/// </summary>
internal sealed class JwksParser
{
    private const int MinimumModulusBytes = 2048 / 8;

    private readonly Func<SecurityKey, TokenValidationParameters> _parametersFor;
    private readonly IReadOnlySet<string> _reservedKeyIds;

    /// <param name="parametersFor">Builds the validation parameters of one RS256 key.</param>
    /// <param name="reservedKeyIds">The HS256 kids: a JWKS key may not share one.</param>
    public JwksParser(Func<SecurityKey, TokenValidationParameters> parametersFor, IReadOnlySet<string> reservedKeyIds)
    {
        _parametersFor = parametersFor;
        _reservedKeyIds = reservedKeyIds;
    }

    /// <summary>The usable keys, or null with <paramref name="error"/> when the document is not a JWKS.</summary>
    public FrozenDictionary<string, TokenValidationParameters>? Parse(string json, out string? error, Action<string, string> ignored)
    {
        if (Entries(json) is not { } entries)
        {
            error = "not a JWKS document (a JSON object with a \"keys\" array)";
            return null;
        }
        var keys = new Dictionary<string, TokenValidationParameters>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            // One entry IdentityModel cannot read (a string where it wants an array) is ignored like any unusable one,
            // rather than the whole file: at a reload that would keep every later key change out.
            if (ToJsonWebKey(entries[i]) is not { } jwk)
            {
                ignored($"#{i}", "is not a JSON Web Key IdentityModel can read");
                continue;
            }
            var kid = string.IsNullOrEmpty(jwk.Kid) ? $"#{i}" : jwk.Kid;
            if (Unusable(jwk, keys) is { } reason)
            {
                ignored(kid, reason);
            }
            else if (ToRsaKey(jwk) is { } key)
            {
                keys.Add(jwk.Kid, _parametersFor(key));
            }
            else
            {
                ignored(kid, $"has no valid RSA modulus and exponent, or a modulus under {MinimumModulusBytes * 8} bits");
            }
        }
        error = null;
        return keys.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The entries of the <c>keys</c> array; null when <paramref name="json"/> is no JWKS.</summary>
    private static JsonElement[]? Entries(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("keys", out var keys) && keys.ValueKind == JsonValueKind.Array
                ? [.. keys.EnumerateArray().Select(entry => entry.Clone())]
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonWebKey? ToJsonWebKey(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        try
        {
            return new JsonWebKey(entry.GetRawText());
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private string? Unusable(JsonWebKey jwk, Dictionary<string, TokenValidationParameters> keys) =>
        string.IsNullOrEmpty(jwk.Kid) ? "has no kid"
        : jwk.Kty != JsonWebAlgorithmsKeyTypes.RSA ? $"is a {jwk.Kty} key, not RSA"
        : jwk.Use is { Length: > 0 } use && use != JsonWebKeyUseNames.Sig ? $"is for '{use}', not 'sig'"
        : jwk.Alg is { Length: > 0 } alg && alg != SecurityAlgorithms.RsaSha256 ? $"is for {alg}, not RS256"
        : _reservedKeyIds.Contains(jwk.Kid) ? $"has the kid of an HS256 key of {AuthOptions.Section}:Keys"
        : keys.ContainsKey(jwk.Kid) ? "repeats a kid listed earlier in the file"
        // Verifying needs only n and e; a private part here is a signing key copied to every relay that reads the file.
        : new[] { jwk.D, jwk.P, jwk.Q, jwk.DP, jwk.DQ, jwk.QI }.Any(part => !string.IsNullOrEmpty(part))
            ? "holds a private key (d, p, q...): publish only its public part (n, e), and take this key as exposed"
        : null;

    private static RsaSecurityKey? ToRsaKey(JsonWebKey jwk)
    {
        byte[] modulus, exponent;
        try
        {
            modulus = Base64Url.DecodeFromChars(jwk.N);
            exponent = Base64Url.DecodeFromChars(jwk.E);
        }
        catch (FormatException)
        {
            return null;
        }
        var significant = modulus.AsSpan().TrimStart((byte)0).Length;
        if (significant < MinimumModulusBytes || exponent.Length == 0)
        {
            return null;
        }
        return new RsaSecurityKey(new RSAParameters { Modulus = modulus, Exponent = exponent }) { KeyId = jwk.Kid };
    }
}
