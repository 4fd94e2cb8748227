using System.Collections.Concurrent;
using Relay.Client;

namespace Relay.Tests.Client;

/// <summary>
/// State of one identity (org and subject of the token) is never shown to, nor resumed by, another: a store written under
/// another identity is discarded on load, and a token provider that switches identity makes the client drop what it
/// holds and hydrate afresh.
/// </summary>
public sealed class IdentityTests
{
    /// <summary>A client of the default identity catches up on <paramref name="topic"/> with its state in the file at <paramref name="path"/>; its documents.</summary>
    private static async Task<IReadOnlyDictionary<string, CachedDocument>> SaveCaughtUpAsync(RelayServerHarness relay, string path, string topic)
    {
        var cache = new DocumentCache();
        await using var client = TestClients.Create(relay, new FileWatermarkStore(path, cache), cache);
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);
        return client.Documents(topic);
    }

    [Test]
    public async Task FileStore_writtenUnderAnotherIdentity_isDiscardedOnLoad_andTheClientHydratesAfresh([Values("org", "subject")] string changed)
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var (topic, org1Doc, org2Doc) = await TwoOrgTopicAsync();
        var directory = Directory.CreateTempSubdirectory("relay-identity-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            var held = await SaveCaughtUpAsync(relay, path, topic);
            Assert.That(held.Keys, Is.EqualTo(new[] { org1Doc }));

            var (org, subject) = changed == "org" ? ("org-2", "tester") : ("org-1", "someone-else");
            var cache = new DocumentCache();
            var changes = new ConcurrentQueue<DocumentChange>();
            await using var second = TestClients.Create(relay, new FileWatermarkStore(path, cache), cache,
                token: () => RelayServerHarness.Token(org, subject: subject));
            second.DocumentChanged += changes.Enqueue;
            await second.SubscribeAsync([topic]);
            second.Start();
            await second.CaughtUpAsync(topic);

            var expected = changed == "org" ? org2Doc : org1Doc;
            Assert.That(second.Documents(topic).Keys, Is.EqualTo(new[] { expected }), "only the new identity's documents are held");
            Assert.That(changes.Select(change => (change.Document.DocKey, change.Document.Deleted)), Is.EqualTo(new[] { (expected, false) }),
                "the client hydrated from scratch (it heard of every document), and never held the old identity's");
            Assert.That(second.Identity, Is.EqualTo(new SyncIdentity(org, subject)));
            await second.DisposeAsync(); // flushes: the store writes in the background, which a busy machine runs late
            var saved = await File.ReadAllTextAsync(path);
            Assert.That(saved, Does.Contain($"\"identity\":{{\"org\":\"{org}\",\"subject\":\"{subject}\"}}"), "the file records whose state it is");
            if (changed == "org")
            {
                Assert.That(saved, Does.Not.Contain(org1Doc), "the old org's documents are gone from the file");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task FileStore_ofATopicTheTokenDoesNotCover_isNotShownOnLoad_evenBeforeConnecting()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var revoked = await TestTopics.CreateAsync();
        var kept = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish(t, t || ':doc', '{}') FROM unnest(ARRAY[$1, $2]) t", revoked, kept);
        var directory = Directory.CreateTempSubdirectory("relay-scopes-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            await SaveCaughtUpAsync(relay, path, revoked);
            await SaveCaughtUpAsync(relay, path, kept);

            var cache = new DocumentCache();
            await using var offline = TestClients.Create(relay, new FileWatermarkStore(path, cache), cache, token: () => RelayServerHarness.Token(scopes: kept));
            await offline.LoadAsync();

            Assert.That(offline.Documents(revoked), Is.Empty, "a topic the token does not cover");
            Assert.That(offline.Documents(kept).Keys, Is.EqualTo(new[] { kept + ":doc" }));
            Assert.That(await File.ReadAllTextAsync(path), Does.Not.Contain(revoked + ":doc"), "nor is it kept");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task FileStore_ofATopicTheTokenNoLongerCovers_isEmptiedOnceTheRelayRefusesIt()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var docKey = topic + ":secret";
        await Sql.ExecuteAsync("SELECT relay.publish($1, $2, '{}')", topic, docKey);
        var directory = Directory.CreateTempSubdirectory("relay-scopes-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            await SaveCaughtUpAsync(relay, path, topic);

            // The same identity, whose scopes no longer cover the topic.
            var cache = new DocumentCache();
            var changes = new ConcurrentQueue<DocumentChange>();
            var errors = new ConcurrentQueue<OpenAgents.Sync.V1.Error>();
            await using var second = TestClients.Create(relay, new FileWatermarkStore(path, cache), cache, token: () => RelayServerHarness.Token(scopes: "runtime.*"));
            second.DocumentChanged += changes.Enqueue;
            second.ErrorReceived += errors.Enqueue;
            await second.SubscribeAsync([topic]);
            second.Start();
            await Eventually.ThatAsync(() => errors.Any(e => e.Code == OpenAgents.Sync.V1.ErrorCode.ForbiddenTopic), "the relay to refuse the topic");
            await Eventually.ThatAsync(() => !File.ReadAllText(path).Contains(docKey, StringComparison.Ordinal), "the file to be written without the document");

            Assert.That(second.Documents(topic), Is.Empty, "what the token no longer covers is not shown");
            Assert.That(changes.Select(change => (change.Document.DocKey, change.Document.Deleted)), Does.Contain((docKey, true)), "the app is told it is gone");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Client_subscribesAgainByItself_toATopicRefusedAsForbidden_onceANewerTokenCoversIt([Values("refresh", "reconnect")] string how)
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var granted = await TestTopics.CreateAsync();
        var kept = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish(t, t || ':doc', '{}') FROM unnest(ARRAY[$1, $2]) t", granted, kept);
        var widened = false;
        var lifetime = TimeSpan.FromMinutes(10);
        var errors = new ConcurrentQueue<OpenAgents.Sync.V1.Error>();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => ValueTask.FromResult(RelayServerHarness.Token(scopes: Volatile.Read(ref widened) ? "test.*" : kept, lifetime: lifetime)),
            // "refresh": a fresh token in band about two seconds after each one; "reconnect": none within the test.
            TokenRefreshMargin = how == "refresh" ? lifetime - TimeSpan.FromSeconds(2) : TimeSpan.FromMinutes(1),
            Cache = new DocumentCache(),
            WatermarkStore = new InMemoryWatermarkStore(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        client.ErrorReceived += errors.Enqueue;
        await client.SubscribeAsync([granted, kept]);
        client.Start();
        await client.CaughtUpAsync(kept);
        await Eventually.ThatAsync(() => errors.Any(e => e.Code == OpenAgents.Sync.V1.ErrorCode.ForbiddenTopic && e.Topic == granted), "the relay to refuse the topic");

        // Before, the topic stayed refused until the application called SubscribeAsync again.
        Volatile.Write(ref widened, true);
        if (how == "reconnect")
        {
            client.AbortConnection();
        }
        await Eventually.ThatAsync(() => client.IsCaughtUp(granted) && client.Documents(granted).ContainsKey(granted + ":doc"),
            "the topic's document once the token covers it", TimeSpan.FromSeconds(30));
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':live', '{}')", granted);
        await Eventually.ThatAsync(() => client.Documents(granted).ContainsKey(granted + ":live"), "a live update of the topic");
        Assert.That(errors.Count(e => e.Code == OpenAgents.Sync.V1.ErrorCode.ForbiddenTopic), Is.EqualTo(1), "refused once, under the first token only");
    }

    [Test]
    public async Task Client_whoseTokenProviderSwitchesIdentity_dropsTheOldState_raisesDeletions_andHydratesAfresh([Values("org", "subject")] string changed)
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var (topic, org1Doc, org2Doc) = await TwoOrgTopicAsync();
        var identity = new SyncIdentity("org-1", "tester");
        var lifetime = TimeSpan.FromMinutes(10);
        var changes = new ConcurrentQueue<DocumentChange>();
        var failures = new ConcurrentQueue<Exception>();
        var errors = new ConcurrentQueue<OpenAgents.Sync.V1.Error>();
        var cache = new DocumentCache();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ =>
            {
                var now = Volatile.Read(ref identity);
                return ValueTask.FromResult(RelayServerHarness.Token(now.Org, lifetime: lifetime, subject: now.Subject));
            },
            // Asks the provider for a fresh token about two seconds after each one.
            TokenRefreshMargin = lifetime - TimeSpan.FromSeconds(2),
            Cache = cache,
            WatermarkStore = new InMemoryWatermarkStore(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        client.DocumentChanged += changes.Enqueue;
        client.ConnectionFailed += failures.Enqueue;
        client.ErrorReceived += errors.Enqueue;
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);
        Assert.That(client.Documents(topic).Keys, Is.EqualTo(new[] { org1Doc }));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.That(errors, Is.Empty, "refreshes of the same identity are accepted");

        var switched = changed == "org" ? new SyncIdentity("org-2", "tester") : new SyncIdentity("org-1", "someone-else");
        Volatile.Write(ref identity, switched);
        var expected = changed == "org" ? org2Doc : org1Doc;
        // Well before the old token's deadline (ten minutes), at which the relay would close the connection.
        await Eventually.ThatAsync(
            () => client.Identity == switched && client.Documents(topic).Keys.SequenceEqual([expected]) && client.IsCaughtUp(topic)
                && changes.Count(change => change.Document.DocKey == expected && !change.Document.Deleted) == (changed == "org" ? 1 : 2),
            "the client to hold the new identity's documents", TimeSpan.FromSeconds(30));

        Assert.That(changes.Select(change => (change.Document.DocKey, change.Document.Deleted, change.Watermark)),
            Is.EqualTo(changed == "org"
                ? new[] { (org1Doc, false, 1L), (org1Doc, true, 0L), (org2Doc, false, 2L) }
                : [(org1Doc, false, 1L), (org1Doc, true, 0L), (org1Doc, false, 1L)]),
            "the old identity's document is deleted, then the new identity's are replayed from the start");
        Assert.That(failures, Is.Empty, "a switch of identity is not a failed connection");
        Assert.That(errors, Is.Empty, "no refresh of another identity was sent for the relay to refuse");
    }

    [Test]
    public async Task Client_hydratingWithATokenOfAnotherIdentity_isRefused_andMixesNothingIn()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var (topic, org1Doc, _) = await TwoOrgTopicAsync();
        var org = "org-1";
        await using var client = TestClients.Create(relay, token: () => RelayServerHarness.Token(Volatile.Read(ref org)));
        await client.SubscribeAsync([topic]);
        await client.LoadAsync();
        await client.HydrateAsync(topic);
        Assert.That(client.Documents(topic).Keys, Is.EqualTo(new[] { org1Doc }));

        Volatile.Write(ref org, "org-2");
        var refused = await Assert.CatchAsync<InvalidOperationException>(async () => await client.HydrateAsync(topic));

        Assert.That(refused!.Message, Does.StartWith("the token names org org-2, subject tester, not org org-1, subject tester"));
        Assert.That(client.Documents(topic).Keys, Is.EqualTo(new[] { org1Doc }), "org-2's documents are not mixed into org-1's state");
    }

    [Test]
    public async Task FileStore_recordingNoIdentity_isDiscarded_andAnotherIdentitysIsNotRestored()
    {
        var directory = Directory.CreateTempSubdirectory("relay-identity-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            var identity = new SyncIdentity("org-1", "tester");
            // What a client before identities wrote: documents and watermarks, no identity.
            await File.WriteAllTextAsync(path,
                """{"watermarks":{"test.a":7},"epochs":{},"documents":{"test.a":[{"docKey":"old","docVersion":1,"deleted":false,"payload":{},"payloadHash":"AA=="}]}}""");
            var cache = new DocumentCache();
            var store = new FileWatermarkStore(path, cache);

            Assert.That(await store.LoadAsync(identity), Is.False, "state recording no identity is discarded");
            Assert.That((cache.Entries("test.a").Count, await store.GetAsync("test.a")), Is.EqualTo((0, ResumePoint.Start)));

            cache.Apply("test.a", new CachedDocument("mine", 2, "{}"u8.ToArray(), new byte[32], Deleted: false));
            await store.SetAsync(new Dictionary<string, ResumePoint> { ["test.a"] = new(9, "e") });
            await store.FlushAsync();
            var otherCache = new DocumentCache();
            Assert.That(await new FileWatermarkStore(path, otherCache).LoadAsync(identity with { Org = "org-2" }), Is.False);
            Assert.That(otherCache.Topics, Is.Empty, "another org's documents are not restored");
            var sameCache = new DocumentCache();
            var same = new FileWatermarkStore(path, sameCache);
            Assert.That(await same.LoadAsync(identity), Is.True);
            Assert.That((sameCache.Documents("test.a").Keys.Single(), await same.GetAsync("test.a")), Is.EqualTo(("mine", new ResumePoint(9, "e"))));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public async Task InMemoryStore_keepsItsInitialWatermarksForTheFirstIdentity_andDropsThemForAnother()
    {
        var store = new InMemoryWatermarkStore(new Dictionary<string, long> { ["test.a"] = 3 });
        var identity = new SyncIdentity("org-1", "tester");

        Assert.That(await store.LoadAsync(identity), Is.True);
        Assert.That(await store.LoadAsync(identity), Is.True);
        Assert.That(await store.GetAsync("test.a"), Is.EqualTo(new ResumePoint(3)));
        Assert.That(await store.LoadAsync(identity with { Subject = "other" }), Is.False);
        Assert.That(await store.GetAsync("test.a"), Is.EqualTo(ResumePoint.Start));
    }

    /// <summary>A topic that requires an org, with one document of org-1 (watermark 1) and one of org-2 (watermark 2).</summary>
    private static async Task<(string Topic, string Org1Doc, string Org2Doc)> TwoOrgTopicAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true, test: test);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':org-1', '{\"owner\": \"org-1\"}', 'org-1')", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':org-2', '{\"owner\": \"org-2\"}', 'org-2')", topic);
        return (topic, $"{topic}:org-1", $"{topic}:org-2");
    }
}
