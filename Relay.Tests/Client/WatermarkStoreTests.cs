using Relay.Client;

namespace Relay.Tests.Client;

public class WatermarkStoreTests
{
    [Test]
    public async Task FileStore_round_trip_survives_a_new_instance()
    {
        var directory = Directory.CreateTempSubdirectory("relay-watermarks-");
        try
        {
            var path = Path.Combine(directory.FullName, "watermarks.json");
            var store = new FileWatermarkStore(path);
            Assert.That(await store.GetAsync("test.a"), Is.EqualTo(0));
            await store.SetAsync(new Dictionary<string, long> { ["test.a"] = 41, ["test.b"] = 7 });
            await store.SetAsync(new Dictionary<string, long> { ["test.a"] = 42 });

            var reopened = new FileWatermarkStore(path);
            Assert.That(await reopened.GetAsync("test.a"), Is.EqualTo(42));
            Assert.That(await reopened.GetAsync("test.b"), Is.EqualTo(7));
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
