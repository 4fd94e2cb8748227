using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>docs/auth.md and WS_MAPPING.md name every reason class a client can be told.</summary>
[TestFixture]
public sealed class AuthDocTests
{
    private static string Doc(params string[] path) => File.ReadAllText(Path.Combine([Repository.Root(), "docs", .. path]));

    private static IEnumerable<string> ReasonNames() => Enum.GetValues<AuthFailureReason>().Select(AuthFailure.NameOf);

    [Test]
    public void AuthDoc_everyReasonClass_hasARow()
    {
        var doc = Doc("auth.md");

        Assert.That(ReasonNames().Where(name => !doc.Contains($"| `{name}` |", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void WsMapping_everyHandshakeReasonClass_isListed()
    {
        var doc = Doc("protocol", "WS_MAPPING.md");
        var refreshOnly = new[] { AuthFailureReason.OrgMismatch, AuthFailureReason.SubjectMismatch }.Select(AuthFailure.NameOf);

        Assert.That(ReasonNames().Except(refreshOnly).Where(name => !doc.Contains($"`{name}`", StringComparison.Ordinal)), Is.Empty);
    }
}
