namespace Relay.Core.Auth;

/// <summary>
/// How the relay verifies client tokens: the configuration section <c>Relay:Auth</c> (appsettings,
/// <c>Relay__Auth__…</c> environment variables, command line). See docs/auth.md.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Relay:Auth";

    /// <summary>The largest <see cref="ClockSkew"/> accepted: 5 minutes.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// HS256 keys by <c>kid</c>, each secret in standard base64 and at least 256 bits
    /// (<c>"Keys": { "2026-06": "&lt;base64&gt;" }</c>). Every key listed is accepted, so a rotation lists the old and
    /// the new key until the old one's tokens have expired. Default: none.
    /// </summary>
    public IDictionary<string, string> Keys { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// A JWKS file (RFC 7517) with the public keys of an identity provider; its RSA (RS256) and EC P-256 (ES256)
    /// signing keys with a <c>kid</c> are accepted, other entries are ignored with a warning. The relay reads the file
    /// again at most once per second and reloads it when its text changed. Default: none.
    /// </summary>
    public string? JwksFile { get; set; }

    /// <summary>When set, tokens must carry exactly this <c>iss</c>. Default: not checked.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, tokens must carry this <c>aud</c> (alone or in a list). Default: not checked.</summary>
    public string? Audience { get; set; }

    /// <summary>How far <c>exp</c> and <c>nbf</c> may be off the relay's clock. Default 30 seconds; at most <see cref="MaxClockSkew"/>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The values of <c>oa_claims_version</c> the relay accepts. Default (empty): only
    /// <see cref="RelayClaims.CurrentClaimsVersion"/>, 1.
    /// </summary>
    public IList<int> ClaimsVersions { get; } = new List<int>();

    /// <summary>Whether any key is configured: a verifier without keys would refuse every token.</summary>
    public bool HasKeys => Keys.Count > 0 || !string.IsNullOrEmpty(JwksFile);

    /// <summary><see cref="ClaimsVersions"/>, or the default when it is empty.</summary>
    public IReadOnlyList<int> AcceptedClaimsVersions =>
        ClaimsVersions.Count == 0 ? [RelayClaims.CurrentClaimsVersion] : [.. ClaimsVersions];

    /// <summary>Every problem with these settings, one message each naming the setting; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!HasKeys)
        {
            errors.Add($"{Section} configures no key: set {Section}:Keys:<kid> to a base64 secret, or {Section}:JwksFile");
        }
        foreach (var (kid, secret) in Keys)
        {
            if (!HmacKey.TryDecode(kid, secret, out _, out var error))
            {
                errors.Add($"{Section}:Keys:{kid}: {error}");
            }
        }
        if (!string.IsNullOrEmpty(JwksFile) && !File.Exists(JwksFile))
        {
            errors.Add($"{Section}:JwksFile: {Path.GetFullPath(JwksFile)} "
                + (Directory.Exists(JwksFile) ? "is a directory; name the JWKS file in it" : "does not exist"));
        }
        if (ClockSkew < TimeSpan.Zero || ClockSkew > MaxClockSkew)
        {
            errors.Add($"{Section}:ClockSkew is {ClockSkew}; it must be between 00:00:00 and {MaxClockSkew}");
        }
        foreach (var version in ClaimsVersions.Where(version => version < 1))
        {
            errors.Add($"{Section}:ClaimsVersions: {version} is not a positive integer");
        }
        if (Issuer is { Length: 0 })
        {
            errors.Add($"{Section}:Issuer is empty: remove it, or set the issuer tokens must carry");
        }
        if (Audience is { Length: 0 })
        {
            errors.Add($"{Section}:Audience is empty: remove it, or set the audience tokens must carry");
        }
        return errors;
    }

    /// <summary>The decoded <see cref="Keys"/>.</summary>
    /// <exception cref="AuthConfigurationException">A key is invalid (<see cref="Validate"/> says which).</exception>
    public IReadOnlyList<HmacKey> DecodeKeys()
    {
        var keys = new List<HmacKey>(Keys.Count);
        foreach (var (kid, secret) in Keys)
        {
            keys.Add(HmacKey.TryDecode(kid, secret, out var key, out var error)
                ? key
                : throw new AuthConfigurationException($"{Section}:Keys:{kid}: {error}"));
        }
        return keys;
    }

    /// <summary>Accepts tokens signed with <paramref name="key"/> too (for <c>relay up</c>'s development key).</summary>
    /// <exception cref="AuthConfigurationException"><see cref="Keys"/> has the same kid with another secret.</exception>
    public void AddKey(HmacKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Keys.TryGetValue(key.KeyId, out var existing) && existing != key.SecretBase64)
        {
            throw new AuthConfigurationException($"{Section}:Keys:{key.KeyId} is configured with another secret than the key to add");
        }
        Keys[key.KeyId] = key.SecretBase64;
    }
}
