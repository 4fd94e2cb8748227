using Relay.Client;
using Relay.Host.Development;

namespace Relay.Tests.Client;

/// <summary>Documents and watermarks persisted together: a restarted client never resumes past documents it no longer holds.</summary>
public sealed class PersistedStateTests
{
    [Test]
    public async Task Client_restartedOnAFileStore_holdsTheDocumentsBeforeItsWatermark()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var directory = Directory.CreateTempSubdirectory("relay-state-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':a', '{\"n\": 1}')", topic);
            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':b', '{\"n\": 2}')", topic);
            var firstCache = new DocumentCache();
            await using (var first = TestClients.Create(relay, new FileWatermarkStore(path, firstCache), firstCache))
            {
                await first.SubscribeAsync([topic]);
                first.Start();
                await first.CaughtUpAsync(topic);
            }

            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':c', '{\"n\": 3}')", topic);
            var cache = new DocumentCache();
            await using var restarted = TestClients.Create(relay, new FileWatermarkStore(path, cache), cache);
            await restarted.SubscribeAsync([topic]);
            restarted.Start();
            await restarted.CaughtUpAsync(topic);

            await restarted.AssertMatchesReadModelAsync(topic);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Client_withTheRelayUnreachable_servesTheSavedDocuments([Values] bool awaitLoad)
    {
        var topic = await TestTopics.CreateAsync();
        var directory = Directory.CreateTempSubdirectory("relay-offline-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            await RelayClientTests.PublishAsync(topic, "d", 1, 20);
            await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':d20')", topic);
            var head = await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic);
            await using (var relay = await RelayServerHarness.StartAsync())
            {
                var firstCache = new DocumentCache();
                await using var first = TestClients.Create(relay, new FileWatermarkStore(path, firstCache), firstCache);
                await first.SubscribeAsync([topic]);
                first.Start();
                await first.CaughtUpAsync(topic);
            }

            var cache = new DocumentCache();
            var failures = new List<Exception>();
            await using var offline = new RelayClient(new RelayClientOptions
            {
                Url = new Uri($"http://127.0.0.1:{FreePort.Next()}"),
                TokenProvider = _ => ValueTask.FromResult(RelayServerHarness.Token()),
                Cache = cache,
                WatermarkStore = new FileWatermarkStore(path, cache),
                InitialReconnectDelay = TimeSpan.FromMilliseconds(200),
            });
            offline.ConnectionFailed += e => { lock (failures) { failures.Add(e); } };
            await offline.SubscribeAsync([topic]);
            if (awaitLoad)
            {
                await offline.LoadAsync();
            }
            else
            {
                offline.Start();
                await Eventually.ThatAsync(() => offline.Documents(topic).Count > 0, "the saved documents", TimeSpan.FromSeconds(10));
            }

            Assert.That(offline.Documents(topic).Keys, Is.EquivalentTo(Enumerable.Range(1, 19).Select(i => $"{topic}:d{i}")),
                "the saved copy, without the deleted document");
            Assert.That(offline.Watermark(topic), Is.EqualTo(head));
            Assert.That(offline.State, Is.Not.EqualTo(ConnectionState.Connected));
            if (!awaitLoad)
            {
                await Eventually.ThatAsync(() => { lock (failures) { return failures.Count > 0; } }, "a failed connection", TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public void Client_fileStoreOfAnotherCache_isRefused()
    {
        var store = new FileWatermarkStore(Path.Combine(Path.GetTempPath(), "unused.json"), new DocumentCache());

        var refused = Assert.Throws<ArgumentException>(() => new RelayClient(new RelayClientOptions
        {
            Url = new Uri("http://127.0.0.1:1"),
            TokenProvider = _ => ValueTask.FromResult("token"),
            WatermarkStore = store,
        }));

        Assert.That(refused!.Message, Does.StartWith("the FileWatermarkStore saves the documents of another DocumentCache"));
    }

    // Not an object; cut short; a document without its version; a watermark that is not a number. Before, the last
    // three threw JsonReaderException, KeyNotFoundException or InvalidOperationException, without the file's path.
    [TestCase("[42]")]
    [TestCase("""{"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":1},"documents":{"t":[{"docKey":"a",""")]
    [TestCase("""{"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":1},"documents":{"t":[{"docKey":"a","deleted":true}]}}""")]
    [TestCase("""{"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":"one"},"documents":{}}""")]
    // A null docKey, a docKey listed twice (before: ArgumentNullException, ArgumentException; the re-verification).
    [TestCase("""{"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":1},"documents":{"t":[{"docKey":null,"docVersion":1,"deleted":true}]}}""")]
    [TestCase("""{"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":1},"documents":{"t":[{"docKey":"a","docVersion":1,"deleted":true},{"docKey":"a","docVersion":2,"deleted":true}]}}""")]
    public async Task FileStore_thatIsNotASavedState_isRefusedWithWhatToDo(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-damaged-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, text);
        try
        {
            var store = new FileWatermarkStore(path, new DocumentCache());

            var refused = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.LoadAsync(new SyncIdentity("org-1", "tester")));

            Assert.That(refused!.Message, Does.StartWith(path).And.EndWith("delete it to sync from scratch"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task FileStore_damagedAfterItsFirstTopic_leavesTheCacheEmpty()
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-damaged-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """
            {"identity":{"org":"org-1","subject":"tester"},"watermarks":{"t":1,"u":1},"documents":{
             "t":[{"docKey":"a","docVersion":1,"deleted":false,"payload":{},"payloadHash":""}],
             "u":[{"docKey":"b","deleted":false}]}}
            """);
        try
        {
            var cache = new DocumentCache();

            await Assert.ThrowsAsync<InvalidDataException>(async () => await new FileWatermarkStore(path, cache).LoadAsync(new SyncIdentity("org-1", "tester")));

            // Before, topic t was restored before u's document failed: half a state, beside no watermarks.
            Assert.That(cache.Topics, Is.Empty);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
