using System.Diagnostics.CodeAnalysis;

namespace Relay.Core.Auth;

/// <summary>An HS256 key: its <c>kid</c> and its secret.</summary>
/// <param name="KeyId">The <c>kid</c> tokens signed with this key carry in their header.</param>
/// <param name="Secret">At least <see cref="MinimumSecretBytes"/> random bytes.</param>
public sealed record HmacKey(string KeyId, byte[] Secret)
{
    /// <summary>256 bits, the size of HS256's output (RFC 7518 §3.2 forbids shorter keys).</summary>
    public const int MinimumSecretBytes = 32;

    /// <summary>The secret in standard base64, as <c>Relay:Auth:Keys</c> holds it.</summary>
    public string SecretBase64 => Convert.ToBase64String(Secret);

    /// <summary>Decodes a key as <c>Relay:Auth:Keys</c> holds it, or says what is wrong with it.</summary>
    public static bool TryDecode(
        string keyId, string? secretBase64, [NotNullWhen(true)] out HmacKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(keyId))
        {
            error = "the kid is empty";
            return false;
        }
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(secretBase64 ?? "");
        }
        catch (FormatException)
        {
            error = "the secret is not standard base64";
            return false;
        }
        if (secret.Length < MinimumSecretBytes)
        {
            error = $"the secret has {secret.Length * 8} bits; HS256 needs at least {MinimumSecretBytes * 8} (make one with: openssl rand -base64 32)";
            return false;
        }
        key = new HmacKey(keyId, secret);
        error = null;
        return true;
    }
}
