using Relay.Core.Auth;
using Relay.Protocol;

namespace Relay.Host.Development;

/// <summary>What a development token says (<see cref="DevTokens.Mint"/>).</summary>
/// <param name="Subject">The <c>sub</c> claim.</param>
/// <param name="OrgId">The <c>oa_org_id</c> claim.</param>
/// <param name="Scopes">The <c>oa_sync_scopes</c> claim, as <see cref="TopicScopes"/> entries.</param>
/// <param name="TimeToLive">From now until <c>exp</c>; positive.</param>
public sealed record DevTokenRequest(string Subject, string OrgId, IReadOnlyList<string> Scopes, TimeSpan TimeToLive)
{
    /// <summary>The <c>iss</c> claim; none when null. Set it to <see cref="AuthOptions.Issuer"/> when that is configured.</summary>
    public string? Issuer { get; init; }

    /// <summary>The <c>aud</c> claim; none when null. Set it to <see cref="AuthOptions.Audience"/> when that is configured.</summary>
    public string? Audience { get; init; }
}
