using System.Buffers.Text;
using System.Text.Json;

namespace Relay.Client;

/// <summary>Reads a JWT's <c>exp</c> without validating the token: the client only needs to know when to refresh it.</summary>
internal static class TokenExpiry
{
    /// <summary>The token's expiry, or null when it has none or is not a readable JWT.</summary>
    public static DateTimeOffset? Read(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.ValueKind == JsonValueKind.Object
                && payload.RootElement.TryGetProperty("exp", out var exp)
                && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
