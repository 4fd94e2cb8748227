namespace Relay.Client;

/// <summary>
/// Whose synced state it is: the organisation (<c>oa_org_id</c>) and subject (<c>sub</c>) of the token it was received
/// with. A <see cref="RelayClient"/> keeps documents and watermarks of one identity only: state recorded under another
/// (or under none) is discarded when loaded, and a token of another identity makes the client drop what it holds and
/// hydrate afresh, so one user's or organisation's documents are never shown to, or resumed by, another.
/// </summary>
/// <param name="Org">The token's <c>oa_org_id</c>.</param>
/// <param name="Subject">The token's <c>sub</c>.</param>
public sealed record SyncIdentity(string Org, string Subject)
{
    /// <inheritdoc />
    public override string ToString() => $"org {Org}, subject {Subject}";
}
