using Relay.Client;

namespace Relay.Tests.Client;

public class WatermarkStoreTests
{
    [Test]
    public async Task FileStore_round_trip_survives_a_new_instance_with_its_documents()
    {
        var directory = Directory.CreateTempSubdirectory("relay-watermarks-");
        try
        {
            var path = Path.Combine(directory.FullName, "watermarks.json");
            var cache = new DocumentCache();
            cache.Apply("test.a", new CachedDocument("doc-1", 3, "{\"n\": 155627012252807600}"u8.ToArray(), new byte[32], Deleted: false));
            cache.Apply("test.a", CachedDocument.Tombstone("doc-2", 5));
            var store = new FileWatermarkStore(path, cache);
            var identity = new SyncIdentity("org-1", "tester");
            Assert.That(await store.LoadAsync(identity), Is.True, "no file: nothing to discard");
            Assert.That(await store.GetAsync("test.a"), Is.EqualTo(ResumePoint.Start));
            await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(41, "e1"), ["test.b"] = new(7) });
            await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(42, "e1") });

            var restored = new DocumentCache();
            var reopened = new FileWatermarkStore(path, restored);
            Assert.That(await reopened.LoadAsync(identity), Is.True);
            Assert.That(await reopened.GetAsync("test.a"), Is.EqualTo(new ResumePoint(42, "e1")), "the epoch is kept beside the watermark");
            Assert.That(await reopened.GetAsync("test.b"), Is.EqualTo(new ResumePoint(7)));
            var documents = restored.Entries("test.a");
            Assert.That(System.Text.Encoding.UTF8.GetString(documents["doc-1"].Payload.Span), Is.EqualTo("{\"n\": 155627012252807600}"));
            Assert.That((documents["doc-1"].DocVersion, documents["doc-2"].DocVersion, documents["doc-2"].Deleted), Is.EqualTo((3L, 5L, true)));
            Assert.That(directory.GetFiles().Select(f => f.Name), Is.EqualTo(new[] { "watermarks.json" }), "no temporary file is left behind");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task InMemoryStore_starts_from_initial_watermarks()
    {
        var store = new InMemoryWatermarkStore(new Dictionary<string, long> { ["test.a"] = 3 });
        await store.LoadAsync(new SyncIdentity("org-1", "tester"));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.b"] = new(5, "e") });
        Assert.That((await store.GetAsync("test.a"), await store.GetAsync("test.b"), await store.GetAsync("test.c")),
            Is.EqualTo((new ResumePoint(3), new ResumePoint(5, "e"), ResumePoint.Start)));
    }
}
