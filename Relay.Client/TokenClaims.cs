using System.Buffers.Text;
using System.Text.Json;
using Relay.Protocol;

namespace Relay.Client;

/// <summary>
/// What the client reads from a JWT's payload without validating the token (the relay does): when it expires, to
/// refresh it in time; whose it is, to keep the state of one identity from being shown to or resumed by another; and
/// the topics it covers, to show nothing saved of another topic.
/// </summary>
/// <param name="Expiry">The token's <c>exp</c>, or null when it has none.</param>
/// <param name="Identity">The token's <c>oa_org_id</c> and <c>sub</c>, or null when it lacks either.</param>
/// <param name="Scopes">The token's <c>oa_sync_scopes</c>, read as the relay reads them; null when they cannot be.</param>
internal readonly record struct TokenClaims(DateTimeOffset? Expiry, SyncIdentity? Identity, TopicScopes? Scopes)
{
    /// <summary>The claims of <paramref name="token"/>; neither when it is not a readable JWT.</summary>
    public static TokenClaims Read(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return default;
        }
        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var claims = payload.RootElement;
            if (claims.ValueKind != JsonValueKind.Object)
            {
                return default;
            }
            var expiry = claims.TryGetProperty("exp", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : (DateTimeOffset?)null;
            var identity = String(claims, "oa_org_id") is { } org && String(claims, "sub") is { } subject ? new SyncIdentity(org, subject) : null;
            return new TokenClaims(expiry, identity, ReadScopes(claims));
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentOutOfRangeException)
        {
            return default;
        }
    }

    /// <summary>A string of entries separated by spaces or commas, or an array of strings, as the relay takes them.</summary>
    private static TopicScopes? ReadScopes(JsonElement claims)
    {
        TopicScopes? scopes = null;
        if (claims.TryGetProperty("oa_sync_scopes", out var value) && value.ValueKind == JsonValueKind.String)
        {
            TopicScopes.TryParse(value.GetString()!, out scopes, out _);
        }
        else if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(entry => entry.ValueKind == JsonValueKind.String))
        {
            TopicScopes.TryCreate([.. value.EnumerateArray().Select(entry => entry.GetString()!)], out scopes, out _);
        }
        return scopes;
    }

    private static string? String(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
