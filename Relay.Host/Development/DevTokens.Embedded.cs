using Relay.Core.Auth;

namespace Relay.Host.Development;

public static partial class DevTokens
{
    /// <summary>The <c>sub</c> of the token <see cref="PrepareEmbedded"/> mints: <c>dev</c>.</summary>
    public const string DevSubject = "dev";

    /// <summary>The <c>oa_org_id</c> of the token <see cref="PrepareEmbedded"/> mints: <c>org-1</c>, the org of <c>relay up</c>'s example publish.</summary>
    public const string DevOrgId = "org-1";

    /// <summary>The <c>oa_sync_scopes</c> of the token <see cref="PrepareEmbedded"/> mints: <c>runtime.*</c>, the v1 topics.</summary>
    public static readonly IReadOnlyList<string> DevScopes = ["runtime.*"];

    /// <summary>The lifetime of the token <see cref="PrepareEmbedded"/> mints: 24 hours.</summary>
    public static readonly TimeSpan DevTimeToLive = TimeSpan.FromHours(24);

    /// <summary>
    /// For <c>relay up</c>: ensures the development key exists under <paramref name="dataDirectory"/>, adds it to
    /// <paramref name="auth"/> so that the relay accepts what it signs (besides any configured key), and mints a token
    /// to print: <see cref="DevSubject"/>, <see cref="DevOrgId"/>, <see cref="DevScopes"/>, <see cref="DevTimeToLive"/>.
    /// Call it before the <see cref="TokenValidator"/> is created from <paramref name="auth"/>.
    /// </summary>
    /// <exception cref="AuthConfigurationException">The key file is damaged, or its kid is configured with another secret.</exception>
    public static string PrepareEmbedded(AuthOptions auth, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = EnsureDevKey(dataDirectory);
        auth.AddKey(key);
        return Mint(key, new DevTokenRequest(DevSubject, DevOrgId, DevScopes, DevTimeToLive)
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
        });
    }
}
