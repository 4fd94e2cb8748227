using Relay.Client;

namespace Relay.Tests.Client;

public class WatermarkStoreTests
{
    private DirectoryInfo _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("relay-watermarks-");

    [TearDown]
    public void DeleteDirectory() => _directory.Delete(recursive: true);

    [Test]
    public async Task FileStore_round_trip_survives_a_new_instance_with_its_documents()
    {
        var path = Path.Combine(_directory.FullName, "watermarks.json");
        var cache = new DocumentCache();
        cache.Apply("test.a", new CachedDocument("doc-1", 3, "{\"n\": 155627012252807600}"u8.ToArray(), new byte[32], Deleted: false));
        cache.Apply("test.a", CachedDocument.Tombstone("doc-2", 5));
        var store = new FileWatermarkStore(path, cache);
        var identity = new SyncIdentity("org-1", "tester");
        Assert.That(await store.LoadAsync(identity), Is.True, "no file: nothing to discard");
        Assert.That(await store.GetAsync("test.a"), Is.EqualTo(ResumePoint.Start));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(41, "e1"), ["test.b"] = new(7) });
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(42, "e1") });
        await store.FlushAsync();

        var restored = new DocumentCache();
        var reopened = new FileWatermarkStore(path, restored);
        Assert.That(await reopened.LoadAsync(identity), Is.True);
        Assert.That(await reopened.GetAsync("test.a"), Is.EqualTo(new ResumePoint(42, "e1")), "the epoch is kept beside the watermark");
        Assert.That(await reopened.GetAsync("test.b"), Is.EqualTo(new ResumePoint(7)));
        var documents = restored.Entries("test.a");
        Assert.That(System.Text.Encoding.UTF8.GetString(documents["doc-1"].Payload.Span), Is.EqualTo("{\"n\": 155627012252807600}"));
        Assert.That((documents["doc-1"].DocVersion, documents["doc-2"].DocVersion, documents["doc-2"].Deleted), Is.EqualTo((3L, 5L, true)));
        Assert.That(_directory.GetFiles().Select(f => f.Name), Is.EqualTo(new[] { "watermarks.json" }), "no temporary file is left behind");
    }

    [Test]
    public async Task FileStore_writes_at_once_then_coalesces_what_comes_within_its_interval_until_a_flush()
    {
        var path = Path.Combine(_directory.FullName, "state.json");
        var identity = new SyncIdentity("org-1", "tester");
        var cache = new DocumentCache();
        // Longer than the machine has been up: the first write once waited for the interval to pass since its start.
        var store = new FileWatermarkStore(path, cache, saveInterval: TimeSpan.FromDays(36500));
        await store.LoadAsync(identity);

        cache.Apply("test.a", new CachedDocument("doc-1", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(1) });
        var first = await SavedAsync(path, identity, "the first write is not held back");
        Assert.That((first.Watermark, first.Documents), Is.EqualTo((1L, 1)));

        for (var watermark = 2; watermark <= 50; watermark++)
        {
            cache.Apply("test.a", new CachedDocument($"doc-{watermark}", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));
            await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(watermark) });
        }
        await Task.Delay(200);
        Assert.That(await SavedAsync(path, identity, "still saved"), Is.EqualTo(first), "writes within the interval wait for it");

        await store.FlushAsync();
        Assert.That(await SavedAsync(path, identity, "flushed"), Is.EqualTo((50L, 50)), "a flush writes everything at once");
    }

    [Test]
    public async Task FileStore_write_that_fails_is_thrown_and_written_again_with_nothing_lost()
    {
        var path = Path.Combine(_directory.FullName, "gone", "state.json");
        var identity = new SyncIdentity("org-1", "tester");
        var cache = new DocumentCache();
        var store = new FileWatermarkStore(path, cache, saveInterval: TimeSpan.Zero);
        await store.LoadAsync(identity);
        cache.Apply("test.a", new CachedDocument("doc-1", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));

        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(1) });
        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () => await store.FlushAsync());
        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () => await store.FlushAsync(), "still not written");

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await store.FlushAsync();
        Assert.That(await SavedAsync(path, identity, "written once the directory exists"), Is.EqualTo((1L, 1)));
    }

    [Test]
    public async Task FileStore_switching_identity_writes_nothing_of_the_old_one_under_the_new()
    {
        var path = Path.Combine(_directory.FullName, "state.json");
        var first = new SyncIdentity("org-1", "tester");
        var second = first with { Org = "org-2" };
        var cache = new DocumentCache();
        var store = new FileWatermarkStore(path, cache, saveInterval: TimeSpan.FromHours(1));
        await store.LoadAsync(first);
        cache.Apply("test.a", new CachedDocument("org-1-doc", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(1) });
        await store.FlushAsync();
        cache.Apply("test.a", new CachedDocument("org-1-later", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(2) });

        Assert.That(await store.LoadAsync(second), Is.False);
        await store.FlushAsync();
        Assert.That(await SavedAsync(path, first, "the first identity's last write stays"), Is.EqualTo((1L, 1)),
            "what the first identity had not written yet is not written after the switch");

        cache.Clear();
        cache.Apply("test.a", new CachedDocument("org-2-doc", 1, "{}"u8.ToArray(), new byte[32], Deleted: false));
        await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(7) });
        await store.FlushAsync();
        Assert.That(await new FileWatermarkStore(path, new DocumentCache()).LoadAsync(first), Is.False);
        var restored = new DocumentCache();
        Assert.That(await new FileWatermarkStore(path, restored).LoadAsync(second), Is.True);
        Assert.That(restored.Documents("test.a").Keys, Is.EqualTo(new[] { "org-2-doc" }));
    }

    /// <summary>Waits for <paramref name="path"/> to exist, then reads test.a's watermark and document count as a new store loads them.</summary>
    private static async Task<(long Watermark, int Documents)> SavedAsync(string path, SyncIdentity identity, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(path))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"{what}: {path} was not written");
            await Task.Delay(20);
        }
        var cache = new DocumentCache();
        var store = new FileWatermarkStore(path, cache);
        Assert.That(await store.LoadAsync(identity), Is.True, what);
        return ((await store.GetAsync("test.a")).Watermark, cache.Entries("test.a").Count);
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
