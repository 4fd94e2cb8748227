using System.Text;
using Relay.Client;

namespace Relay.Tests.Client;

public class DocumentCacheTests
{
    private const string Topic = "test.cache";

    [Test]
    public void Apply_newer_version_replaces_document()
    {
        var cache = new DocumentCache();
        Assert.That(cache.Apply(Topic, Document("a", 1, "{\"v\":1}")), Is.True);
        Assert.That(cache.Apply(Topic, Document("a", 2, "{\"v\":2}")), Is.True);
        Assert.That(Payload(cache.Documents(Topic)["a"]), Is.EqualTo("{\"v\":2}"));
    }

    [Test]
    public void Apply_older_or_equal_version_is_ignored()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 5, "{\"v\":5}"));
        Assert.That(cache.Apply(Topic, Document("a", 4, "{\"v\":4}")), Is.False);
        Assert.That(cache.Apply(Topic, Document("a", 5, "{\"other\":5}")), Is.False);
        Assert.That(Payload(cache.Documents(Topic)["a"]), Is.EqualTo("{\"v\":5}"));
    }

    [Test]
    public void Apply_tombstone_removes_document_and_remembers_version()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 3, "{}"));
        Assert.That(cache.Apply(Topic, CachedDocument.Tombstone("a", 4)), Is.True);
        Assert.That(cache.Apply(Topic, Document("a", 3, "{}")), Is.False, "an older update must not bring a deleted document back");
        Assert.That(cache.Documents(Topic), Does.Not.ContainKey("a"), "a deleted document is not listed");
        var held = cache.Entries(Topic)["a"];
        Assert.That((held.Deleted, held.DocVersion, held.Payload.Length), Is.EqualTo((true, 4L, 0)));
    }

    [Test]
    public void Apply_version_newer_than_tombstone_brings_document_back()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, CachedDocument.Tombstone("a", 4));
        Assert.That(cache.Apply(Topic, Document("a", 5, "{}")), Is.True);
        Assert.That(cache.Documents(Topic)["a"].Deleted, Is.False);
    }

    [Test]
    public void Apply_older_tombstone_is_ignored()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 6, "{}"));
        Assert.That(cache.Apply(Topic, CachedDocument.Tombstone("a", 5)), Is.False);
        Assert.That(cache.Documents(Topic)["a"].Deleted, Is.False);
    }

    [Test]
    public void Replace_drops_topic_entries_and_keeps_other_topics()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 9, "{}"));
        cache.Apply("test.other", Document("b", 1, "{}"));
        cache.Apply(Topic, Document("kept", 1, "{}"));
        cache.Apply(Topic, CachedDocument.Tombstone("gone", 3));
        var removed = cache.Replace(Topic, [Document("c", 2, "{}"), Document("kept", 2, "{}")]);
        Assert.That(removed.Select(document => (document.DocKey, document.DocVersion)), Is.EqualTo(new[] { ("a", 9L) }),
            "the live documents the replacement drops are returned, not the tombstones");
        Assert.That(cache.Documents(Topic).Keys, Is.EquivalentTo(new[] { "c", "kept" }));
        Assert.That(cache.Documents("test.other").Keys, Is.EqualTo(new[] { "b" }));
        Assert.That(cache.Apply(Topic, Document("a", 1, "{}")), Is.True, "a replaced topic forgets the versions it held");
    }

    [Test]
    public void Replace_returnsATombstoneAppliedPastTheStoredWatermark_whoseHandlerMayNotHaveFinished()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 1, "{}"), watermark: 1);
        cache.Apply(Topic, CachedDocument.Tombstone("a", 2), watermark: 4);
        cache.Apply(Topic, CachedDocument.Tombstone("b", 3), watermark: 2);
        cache.ConfirmThrough(Topic, 3);

        var removed = cache.Replace(Topic, []);

        Assert.That(removed.Select(document => (document.DocKey, document.DocVersion, document.Deleted)), Is.EqualTo(new[] { ("a", 2L, true) }),
            "raised again by the re-hydration, as a replay would have; b's deletion was confirmed");
    }

    [Test]
    public void Documents_unknown_topic_is_empty() =>
        Assert.That(new DocumentCache().Documents("test.none"), Is.Empty);

    [Test]
    public void Tombstones_areKeptUntilTheWatermarkReachesThem_thenForgotten()
    {
        var cache = new DocumentCache();
        cache.Apply(Topic, Document("a", 1, "{}"), watermark: 1);
        cache.Apply(Topic, CachedDocument.Tombstone("a", 2), watermark: 5);
        cache.Apply(Topic, CachedDocument.Tombstone("b", 1), watermark: 7);

        cache.ConfirmThrough(Topic, 6);

        Assert.That(cache.Entries(Topic).Keys, Is.EqualTo(new[] { "b" }), "the deletion at 7 is still above the resume point");
        Assert.That(cache.Apply(Topic, Document("b", 1, "{}"), watermark: 6), Is.False, "an older update does not bring b back");
        cache.ConfirmThrough(Topic, 7);
        Assert.That(cache.Entries(Topic), Is.Empty);
    }

    private static CachedDocument Document(string key, long version, string payload) =>
        new(key, version, Encoding.UTF8.GetBytes(payload), new byte[32], Deleted: false);

    private static string Payload(CachedDocument document) => Encoding.UTF8.GetString(document.Payload.Span);
}
