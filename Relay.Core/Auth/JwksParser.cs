using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Relay.Core.Auth;

/// <summary>
/// Turns a JWKS document into validation parameters by <c>kid</c>, keeping only public signing keys with a <c>kid</c>
/// whose <c>use</c> (if any) is <c>sig</c>: RSA keys of at least 2048 bits, which verify RS256, and EC keys on P-256,
/// which verify ES256 (an <c>alg</c>, if given, must be that one). The key decides its one algorithm.
/// Every other entry is reported as ignored, with the reason.
/// </summary>
internal sealed class JwksParser
{
    private const int MinimumModulusBytes = 2048 / 8;

    private readonly Func<SecurityKey, string, TokenValidationParameters> _parametersFor;
    private readonly IReadOnlySet<string> _reservedKeyIds;

    /// <param name="parametersFor">Builds the validation parameters of one key and its algorithm.</param>
    /// <param name="reservedKeyIds">The HS256 kids: a JWKS key may not share one.</param>
    public JwksParser(Func<SecurityKey, string, TokenValidationParameters> parametersFor, IReadOnlySet<string> reservedKeyIds)
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
            else if (jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA)
            {
                AddOrIgnore(ToRsaKey(jwk), $"has no valid RSA modulus and exponent, or a modulus under {MinimumModulusBytes * 8} bits");
            }
            else
            {
                AddOrIgnore(ToEcKey(jwk), "has no valid P-256 point (x, y)");
            }

            void AddOrIgnore(SecurityKey? key, string reason)
            {
                if (key is null)
                {
                    ignored(kid, reason);
                }
                else
                {
                    keys.Add(jwk.Kid, _parametersFor(key, AlgorithmOf(jwk)));
                }
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

    /// <summary>The one algorithm a usable key verifies: RS256 for RSA, ES256 for EC (on P-256).</summary>
    private static string AlgorithmOf(JsonWebKey jwk) =>
        jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256;

    private string? Unusable(JsonWebKey jwk, Dictionary<string, TokenValidationParameters> keys) =>
        string.IsNullOrEmpty(jwk.Kid) ? "has no kid"
        : jwk.Kty is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve)
            ? $"has kty '{jwk.Kty}': only RSA keys (RS256) and EC keys on P-256 (ES256) are used"
        : jwk.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && jwk.Crv != JsonWebKeyECTypes.P256
            ? $"is an EC key on '{jwk.Crv}': only P-256 (ES256) is used"
        : jwk.Use is { Length: > 0 } use && use != JsonWebKeyUseNames.Sig ? $"is for '{use}', not 'sig'"
        : jwk.Alg is { Length: > 0 } alg && alg != AlgorithmOf(jwk) ? $"is for {alg}, not {AlgorithmOf(jwk)}"
        : _reservedKeyIds.Contains(jwk.Kid) ? $"has the kid of an HS256 key of {AuthOptions.Section}:Keys"
        : keys.ContainsKey(jwk.Kid) ? "repeats a kid listed earlier in the file"
        // Verifying needs only the public part; a private part here is a signing key copied to every relay that reads the file.
        : new[] { jwk.D, jwk.P, jwk.Q, jwk.DP, jwk.DQ, jwk.QI }.Any(part => !string.IsNullOrEmpty(part))
            ? "holds a private key (d...): publish only its public part (n, e for RSA; x, y for EC), and take this key as exposed"
        : null;

    /// <summary>Two base64url members of a key (n and e, or x and y); null when either is not base64url.</summary>
    private static (byte[] First, byte[] Second)? Decode(string? first, string? second)
    {
        try
        {
            return (Base64Url.DecodeFromChars(first), Base64Url.DecodeFromChars(second));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static RsaSecurityKey? ToRsaKey(JsonWebKey jwk)
    {
        if (Decode(jwk.N, jwk.E) is not (var modulus, var exponent))
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

    private static ECDsaSecurityKey? ToEcKey(JsonWebKey jwk)
    {
        if (Decode(jwk.X, jwk.Y) is not (var x, var y) || x.Length != 32 || y.Length != 32)
        {
            return null;
        }
        try
        {
            // Importing checks that the point is on the curve.
            return new ECDsaSecurityKey(ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } }))
            {
                KeyId = jwk.Kid,
            };
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
