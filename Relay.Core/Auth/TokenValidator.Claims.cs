using Relay.Protocol;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Relay.Core.Auth;

public sealed partial class TokenValidator
{
    private static readonly string[] s_numericDates = [RelayClaims.Expiration, "nbf"];

    // Claims are read as the JSON gave them: the library's typed getters would turn 3 into "3" or "a b" into ["a b"].
    private AuthResult ReadPrincipal(JsonWebToken jwt)
    {
        // The version first: a token of another version may lay out its other claims differently.
        if (!TryReadVersion(jwt, out var version, out var failure)
            || !TryReadString(jwt, RelayClaims.Subject, out var subject, out failure)
            || !TryReadString(jwt, RelayClaims.OrgId, out var orgId, out failure)
            || !TryReadString(jwt, RelayClaims.TokenId, out var tokenId, out failure)
            || !TryReadScopes(jwt, out var scopes, out failure)
            || !HasNumericDates(jwt, out failure))
        {
            return AuthResult.Fail(failure);
        }
        var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc));
        return AuthResult.Success(new RelayPrincipal(subject, orgId, scopes, expiresAt, tokenId, version, jwt.Kid, _clockSkew));
    }

    private static object? Claim(JsonWebToken jwt, string name) =>
        jwt.TryGetPayloadValue<object>(name, out var value) ? value : null;

    /// <summary>
    /// <c>exp</c> and <c>nbf</c> are NumericDates, JSON numbers (RFC 7519 §2); the library also reads a string of
    /// digits. Presence is the lifetime check's to require.
    /// </summary>
    private static bool HasNumericDates(JsonWebToken jwt, [NotNullWhen(false)] out AuthFailure? failure)
    {
        // The library keeps exp and nbf as numbers whatever the JSON had, so the payload itself is read.
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        var name = Array.Find(s_numericDates, date => payload.RootElement.TryGetProperty(date, out var value) && value.ValueKind != JsonValueKind.Number);
        failure = name is null ? null : new AuthFailure(AuthFailureReason.InvalidClaim, $"{name} is not a number of seconds since 1970", name);
        return failure is null;
    }

    private bool TryReadVersion(JsonWebToken jwt, out int version, [NotNullWhen(false)] out AuthFailure? failure)
    {
        const string Name = RelayClaims.ClaimsVersion;
        version = 0;
        long value;
        switch (Claim(jwt, Name))
        {
            case null:
                failure = new AuthFailure(AuthFailureReason.MissingClaim, $"the token has no {Name}", Name);
                return false;
            case int small:
                value = small;
                break;
            case long large:
                value = large;
                break;
            default:
                failure = new AuthFailure(AuthFailureReason.InvalidClaim, $"{Name} is not an integer", Name);
                return false;
        }
        if (value is < 1 or > int.MaxValue || Array.IndexOf(_claimsVersions, (int)value) < 0)
        {
            failure = new AuthFailure(AuthFailureReason.UnknownClaimsVersion,
                $"{Name} {value} is not one this relay accepts ({string.Join(", ", _claimsVersions)})", Name);
            return false;
        }
        version = (int)value;
        failure = null;
        return true;
    }

    private static bool TryReadString(
        JsonWebToken jwt, string name, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out AuthFailure? failure)
    {
        var claim = Claim(jwt, name);
        value = claim as string;
        // A control character is no identifier an issuer means, and PostgreSQL cannot hold a NUL: such an org would
        // fail hydration's query with a 500 instead of the token being refused.
        failure = claim switch
        {
            string { Length: > 0 } text when !text.Any(char.IsControl) => null,
            null => new AuthFailure(AuthFailureReason.MissingClaim, $"the token has no {name}", name),
            _ => new AuthFailure(AuthFailureReason.InvalidClaim, $"{name} is not a non-empty string without control characters", name),
        };
        return failure is null;
    }

    private static bool TryReadScopes(JsonWebToken jwt, [NotNullWhen(true)] out TopicScopes? scopes, [NotNullWhen(false)] out AuthFailure? failure)
    {
        const string Name = RelayClaims.SyncScopes;
        scopes = null;
        string? error;
        switch (Claim(jwt, Name))
        {
            case null:
                failure = new AuthFailure(AuthFailureReason.MissingClaim, $"the token has no {Name}", Name);
                return false;
            case string text:
                TopicScopes.TryParse(text, out scopes, out error);
                break;
            case JsonElement { ValueKind: JsonValueKind.Array } array:
                TryCreateScopes(array, out scopes, out error);
                break;
            default:
                error = "is neither an array of strings nor a string";
                break;
        }
        failure = scopes is null ? new AuthFailure(AuthFailureReason.InvalidClaim, $"{Name}: {error}", Name) : null;
        return failure is null;
    }

    private static void TryCreateScopes(JsonElement array, out TopicScopes? scopes, out string? error)
    {
        var entries = new string[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                scopes = null;
                error = $"entry {i} is a {item.ValueKind}, not a string";
                return;
            }
            entries[i++] = item.GetString()!;
        }
        TopicScopes.TryCreate(entries, out scopes, out error);
    }
}
