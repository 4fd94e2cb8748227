using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>
/// Builds tokens by hand, byte by byte, so that tests can make the ones no library would: <c>alg: none</c>, a wrong
/// algorithm for the key, missing or mistyped claims.
/// </summary>
internal static class TokenForge
{
    public static HmacKey NewKey(string kid) => new(kid, RandomNumberGenerator.GetBytes(32));

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Every claim the relay requires, valid for an hour.</summary>
    public static JsonObject Claims() => new()
    {
        ["sub"] = "user_1",
        ["oa_org_id"] = "org_1",
        ["oa_sync_scopes"] = new JsonArray("runtime.*", "audit.events"),
        ["exp"] = Now + 3600,
        ["iat"] = Now,
        ["jti"] = "jti_1",
        ["oa_claims_version"] = 1,
    };

    public static JsonObject Header(string alg, string? kid)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT" };
        if (kid is not null)
        {
            header["kid"] = kid;
        }
        return header;
    }

    public static string Hs256(HmacKey key, JsonObject? claims = null) =>
        Sign(Header("HS256", key.KeyId), claims ?? Claims(), input => HMACSHA256.HashData(key.Secret, input));

    public static string Rs256(string kid, RSA rsa, JsonObject? claims = null) =>
        Sign(Header("RS256", kid), claims ?? Claims(), input => rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    public static string Es256(string kid, ECDsa ecdsa, JsonObject? claims = null) =>
        Sign(Header("ES256", kid), claims ?? Claims(), input => ecdsa.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    /// <summary>HS256 over <paramref name="header"/>, whatever it says, with <paramref name="secret"/> as the HMAC key.</summary>
    public static string HmacWith(byte[] secret, JsonObject header, JsonObject? claims = null) =>
        Sign(header, claims ?? Claims(), input => HMACSHA256.HashData(secret, input));

    public static string Sign(JsonObject header, JsonObject claims, Func<byte[], byte[]> signer)
    {
        var signingInput = $"{Encode(header)}.{Encode(claims)}";
        return $"{signingInput}.{Base64Url.EncodeToString(signer(Encoding.ASCII.GetBytes(signingInput)))}";
    }

    /// <summary>HS256 over a header and a payload given as JSON text, which may say what a <see cref="JsonObject"/> cannot (a member twice).</summary>
    public static string Hs256Text(HmacKey key, string header, string payload)
    {
        var signingInput = $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header))}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}";
        return $"{signingInput}.{Base64Url.EncodeToString(HMACSHA256.HashData(key.Secret, Encoding.ASCII.GetBytes(signingInput)))}";
    }

    public static string Encode(JsonNode node) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(node.ToJsonString()));

    /// <summary>A JWKS document with the public part of each key, RSA or EC.</summary>
    public static string Jwks(params (string Kid, AsymmetricAlgorithm Key)[] keys) =>
        new JsonObject { ["keys"] = new JsonArray([.. keys.Select(key => Jwk(key.Kid, key.Key))]) }.ToJsonString();

    /// <summary>The public JSON Web Key of <paramref name="key"/>, as an identity provider publishes it.</summary>
    public static JsonObject Jwk(string kid, AsymmetricAlgorithm key)
    {
        if (key is ECDsa ecdsa)
        {
            var point = ecdsa.ExportParameters(includePrivateParameters: false);
            return new JsonObject
            {
                ["kty"] = "EC",
                ["use"] = "sig",
                ["alg"] = "ES256",
                ["kid"] = kid,
                ["crv"] = "P-256",
                ["x"] = Base64Url.EncodeToString(point.Q.X),
                ["y"] = Base64Url.EncodeToString(point.Q.Y),
            };
        }
        var parameters = ((RSA)key).ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = kid,
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
    }

    public static AuthOptions Options(params HmacKey[] keys)
    {
        var options = new AuthOptions();
        foreach (var key in keys)
        {
            options.AddKey(key);
        }
        return options;
    }
}
