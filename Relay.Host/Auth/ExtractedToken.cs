namespace Relay.Host.Auth;

/// <summary>The token of an upgrade request and where it was found.</summary>
/// <param name="Token">The compact JWT; null when <paramref name="Source"/> is <see cref="TokenSource.None"/>.</param>
/// <param name="Source">Where it was found.</param>
public readonly record struct ExtractedToken(string? Token, TokenSource Source)
{
    /// <summary>No token.</summary>
    public static ExtractedToken None => default;
}
