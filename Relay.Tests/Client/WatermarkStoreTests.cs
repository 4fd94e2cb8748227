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
            Assert.That(await store.GetAsync("test.a"), Is.EqualTo(0));
            await store.SetAsync(new Dictionary<string, long> { ["test.a"] = 41, ["test.b"] = 7 });
            await store.SetAsync(new Dictionary<string, long> { ["test.a"] = 42 });

            var restored = new DocumentCache();
            var reopened = new FileWatermarkStore(path, restored);
            Assert.That(await reopened.GetAsync("test.a"), Is.EqualTo(42));
            Assert.That(await reopened.GetAsync("test.b"), Is.EqualTo(7));
            var documents = restored.Documents("test.a");
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
        await store.SetAsync(new Dictionary<string, long> { ["test.b"] = 5 });
        Assert.That((await store.GetAsync("test.a"), await store.GetAsync("test.b"), await store.GetAsync("test.c")), Is.EqualTo((3L, 5L, 0L)));
    }
}
