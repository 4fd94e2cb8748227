using Relay.Protocol;

namespace Relay.Tests.Auth;

[TestFixture]
public sealed class TopicScopesTests
{
    private static TopicScopes Scopes(params string[] entries) =>
        TopicScopes.TryCreate(entries, out var scopes, out var error) ? scopes : throw new AssertionException(error);

    [TestCase("runtime.run_summaries", ExpectedResult = true)]
    [TestCase("runtime.notifications", ExpectedResult = false)]
    [TestCase("runtime.run_summaries.extra", ExpectedResult = false)]
    [TestCase("runtime", ExpectedResult = false)]
    public bool Allows_exactEntry_matchesOnlyThatTopic(string topic) => Scopes("runtime.run_summaries").Allows(topic);

    [TestCase("runtime.run_summaries", ExpectedResult = true)]
    [TestCase("runtime.a.b", ExpectedResult = true)]
    [TestCase("runtime", ExpectedResult = false)]
    [TestCase("runtimefoo", ExpectedResult = false)]
    [TestCase("runtimefoo.bar", ExpectedResult = false)]
    [TestCase("other.runtime.x", ExpectedResult = false)]
    [TestCase("runtime.", ExpectedResult = false)]
    public bool Allows_prefixEntry_matchesTopicsUnderThePrefix(string topic) => Scopes("runtime.*").Allows(topic);

    [Test]
    public void Allows_nestedPrefix_doesNotCoverTheParent()
    {
        var scopes = Scopes("runtime.audit.*");

        Assert.That(scopes.Allows("runtime.audit.events"), Is.True);
        Assert.That(scopes.Allows("runtime.run_summaries"), Is.False);
    }

    [Test]
    public void Allows_noEntries_allowsNothing() =>
        Assert.That(Scopes().Allows("runtime.run_summaries") || TopicScopes.None.Allows("runtime.run_summaries"), Is.False);

    [TestCase("*")]
    [TestCase(".*")]
    [TestCase("runtime*")]
    [TestCase("runtime.*.x")]
    [TestCase("runtime.**")]
    [TestCase("Runtime.x")]
    [TestCase("runtime..x")]
    [TestCase("runtime.")]
    [TestCase("1runtime")]
    [TestCase("runtime.1x")]
    [TestCase("")]
    [TestCase(" runtime")]
    public void TryCreate_malformedEntry_isRefusedNamingIt(string entry)
    {
        Assert.That(TopicScopes.TryCreate(["runtime.x", entry], out _, out var error), Is.False);
        Assert.That(error, Does.Contain(entry));
    }

    [Test]
    public void TryCreate_overlongTopicName_isRefused() =>
        Assert.That(TopicScopes.TryCreate([new string('a', 129)], out _, out _), Is.False);

    [Test]
    public void TryParse_spaceOrCommaSeparatedEntries_readsEach()
    {
        Assert.That(TopicScopes.TryParse("runtime.*  audit.events,billing.x", out var scopes, out _), Is.True);
        Assert.That(scopes!.Entries, Is.EqualTo(new[] { "runtime.*", "audit.events", "billing.x" }));
        Assert.That(scopes.ToString(), Is.EqualTo("runtime.* audit.events billing.x"));
    }
}
