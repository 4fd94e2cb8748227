using System.Text;
using OpenAgents.Sync.V1;
using Relay.Client;
using Relay.Host.Development;

namespace Relay.Tests.Client;

public class RelayClientTests
{
    [Test]
    public async Task Client_relay_restarts_resumes_from_stored_watermark()
    {
        var port = FreePort.Next();
        var relay = await RelayServerHarness.StartAsync(port: port);
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, "a", 1, 10);
        var states = new List<ConnectionState>();
        await using var client = TestClients.Create(relay);
        client.StateChanged += state => { lock (states) { states.Add(state); } };
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);

        await relay.DisposeAsync();
        await PublishAsync(topic, "b", 1, 10);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:a3");
        relay = await RelayServerHarness.StartAsync(port: port);
        try
        {
            await client.CaughtUpAsync(topic);
            await client.AssertMatchesReadModelAsync(topic);
            Assert.That(client.Documents(topic), Does.Not.ContainKey($"{topic}:a3"), "a deleted document is not listed");
            // Before, every tombstone was kept for the client's life (and saved with every write of its store).
            Assert.That(client.Cache.Entries(topic), Does.Not.ContainKey($"{topic}:a3"), "its deletion is forgotten once the watermark passed it");
            lock (states)
            {
                Assert.That(states.Count(state => state == ConnectionState.Connected), Is.GreaterThanOrEqualTo(2));
            }
        }
        finally
        {
            await relay.DisposeAsync();
        }
    }

    [Test]
    public async Task Client_afterARestoreAndTheDbaStep_resumesFromItsStoredEpoch_getsStaleCursor_andEndsEqualToTheReadModel()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, "kept", 1, 2);
        var store = new InMemoryWatermarkStore();
        var cache = new DocumentCache();
        await using (var before = TestClients.Create(relay, store, cache))
        {
            await before.SubscribeAsync([topic]);
            before.Start();
            await PublishAsync(topic, "lost", 1, 2);
            await before.CaughtUpAsync(topic);
        }
        var stored = await store.GetAsync(topic);
        var epochBefore = await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topic);

        // What restoring a backup taken at watermark 2 does to the topic, then the DBA step, then writers go on past
        // the client's cursor with watermarks it has already seen.
        await Sql.ExecuteAsync("DELETE FROM relay.stream_events WHERE topic = $1 AND watermark > 2", topic);
        await Sql.ExecuteAsync("DELETE FROM relay.documents WHERE topic = $1 AND doc_key LIKE '%:lost%'", topic);
        await Sql.ExecuteAsync("UPDATE relay.topics SET head_watermark = 2 WHERE topic = $1", topic);
        await Sql.ExecuteAsync("SELECT relay.reset_epoch($1)", topic);
        await PublishAsync(topic, "after", 1, 3);
        var errors = new List<ErrorCode>();
        await using var after = TestClients.Create(relay, store, cache);
        after.ErrorReceived += error => { lock (errors) { errors.Add(error.Code); } };
        await after.SubscribeAsync([topic]);
        after.Start();
        await after.CaughtUpAsync(topic);

        Assert.That(stored, Is.EqualTo(new ResumePoint(4, epochBefore!)), "the epoch is stored beside the watermark");
        lock (errors)
        {
            Assert.That(errors, Is.EqualTo(new[] { ErrorCode.StaleCursor }));
        }
        await after.AssertMatchesReadModelAsync(topic);
        Assert.That(after.Documents(topic).Keys, Has.None.Contains(":lost"), "what the restore undid is gone from the client too");
    }

    [Test]
    public async Task Client_askedToFollowMoreTopicsThanAConnectionMay_refusesWithOneClearError_andFollowsTheOthers()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, "d", 1, 1);
        await using var client = TestClients.Create(relay);
        await client.SubscribeAsync([topic, .. Enumerable.Range(1, RelayClient.MaxTopicsPerConnection - 1).Select(i => $"test.many.t{i}")]);

        // Before, they were taken, and the relay refused the Subscribe with BAD_REQUEST, naming no topic, on every connection.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => client.SubscribeAsync(["test.many.one_more"]));
        Assert.That(refused!.Message, Does.StartWith("a client follows at most 256 topics"));
        client.Start();
        await client.CaughtUpAsync(topic);
        await client.AssertMatchesReadModelAsync(topic);
    }

    [Test]
    public async Task Client_whoseUpgradeIsNeverAnswered_reportsTheConnectTimeoutInWords()
    {
        // A host that takes the TCP connection and never answers the upgrade.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.TcpClient>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                accepted.Add(await listener.AcceptTcpClientAsync());
            }
        });
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        await using (var client = new RelayClient(new RelayClientOptions
        {
            Url = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}"),
            TokenProvider = _ => ValueTask.FromResult(RelayServerHarness.Token()),
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
        }))
        {
            client.ConnectionFailed += failures.Enqueue;
            client.Start();
            await Eventually.ThatAsync(() => !failures.IsEmpty, "a failed connection");
        }
        listener.Stop();
        Assert.That(async () => await accepting, Throws.Exception);
        foreach (var connection in accepted)
        {
            connection.Dispose();
        }

        // Before: "The operation was canceled."
        Assert.That(failures.First(), Is.InstanceOf<TimeoutException>());
        Assert.That(failures.First().Message, Is.EqualTo("the relay did not accept the connection within 0.3 s (RelayClientOptions.ConnectTimeout)"));
    }

    [Test]
    public async Task Client_withMoreTopicsThanOneSubscribeMayName_followsThemAll()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topics = new List<string>();
        for (var i = 0; i <= RelayClient.MaxTopicsPerSubscribe; i++)
        {
            topics.Add(await TestTopics.CreateAsync());
            await PublishAsync(topics[^1], "d", 1, 1);
        }
        var errors = new List<ErrorCode>();
        await using var client = TestClients.Create(relay);
        client.ErrorReceived += error => { lock (errors) { errors.Add(error.Code); } };
        await client.SubscribeAsync(topics);
        client.Start();

        await client.CaughtUpAsync([.. topics]);
        await client.AssertMatchesReadModelAsync([.. topics]);
        lock (errors)
        {
            Assert.That(errors, Is.Empty);
        }
    }

    [Test]
    public async Task Client_stale_cursor_rehydrates_topic_over_http()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, "d", 1, 30);
        await PublishAsync(topic, "d", 1, 10);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:d4");
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);
        var errors = new List<ErrorCode>();
        var store = new InMemoryWatermarkStore(new Dictionary<string, long> { [topic] = 2 });
        await using var client = TestClients.Create(relay, store);
        client.ErrorReceived += error => { lock (errors) { errors.Add(error.Code); } };
        await client.SubscribeAsync([topic]);
        client.Start();

        await client.CaughtUpAsync(topic);
        await PublishAsync(topic, "e", 1, 3);
        await client.CaughtUpAsync(topic);
        await client.AssertMatchesReadModelAsync(topic);
        Assert.That((await store.GetAsync(topic)).Watermark, Is.EqualTo(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic)));
        lock (errors)
        {
            Assert.That(errors, Is.EqualTo(new[] { ErrorCode.StaleCursor }));
        }
    }

    [Test]
    public async Task Client_staleCursorRehydration_raisesADeletionForEachDocumentDeletedMeanwhile()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, "d", 1, 3);
        var store = new InMemoryWatermarkStore();
        var cache = new DocumentCache();
        await TestClients.CatchUpOnceAsync(relay, store, cache, topic);
        await using (var watcher = await TestClients.StartAsync(relay, [topic]))
        {
            await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:d1");
            await PublishAsync(topic, "e", 1, 1);
            // The relay has the events: a resume point at its log's head is served from the log, without asking the
            // database, so a subscriber coming before they reached the relay would be sent them rather than re-hydrate.
            await Eventually.ThatAsync(() => watcher.Documents(topic).ContainsKey($"{topic}:e1"), "the relay to have the new events");
        }
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);
        var changes = new List<DocumentChange>();
        await using var after = TestClients.Create(relay, store, cache);
        after.DocumentChanged += change => { lock (changes) { changes.Add(change); } };
        await after.SubscribeAsync([topic]);
        after.Start();
        await after.CaughtUpAsync(topic);

        await after.AssertMatchesReadModelAsync(topic);
        lock (changes)
        {
            var deletions = changes.Where(change => change.Document.Deleted).Select(change => (change.Document.DocKey, change.Document.DocVersion));
            Assert.That(deletions, Is.EqualTo(new[] { ($"{topic}:d1", 1L) }), "the re-hydration tells the app what it dropped");
            Assert.That(changes.Where(change => !change.Document.Deleted).Select(change => change.Document.DocKey),
                Is.EquivalentTo(new[] { $"{topic}:d2", $"{topic}:d3", $"{topic}:e1" }));
        }
        Assert.That(after.Documents(topic).Keys, Is.EquivalentTo(new[] { $"{topic}:d2", $"{topic}:d3", $"{topic}:e1" }));
    }

    [Test]
    public async Task Client_payload_over_256_KiB_is_fetched_over_http([Values] bool json)
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var big = $$"""{"text":"{{new string('x', 300_000)}}"}""";
        await Sql.ExecuteAsync("SELECT relay.publish($1, $2, $3::jsonb)", topic, $"{topic}:big", big);
        await PublishAsync(topic, "small", 1, 2);
        await using var client = await TestClients.StartAsync(relay, [topic], json: json);

        await client.CaughtUpAsync(topic);
        await client.AssertMatchesReadModelAsync(topic);
        var payload = Encoding.UTF8.GetString(client.Documents(topic)[$"{topic}:big"].Payload.Span);
        Assert.That(payload, Is.EqualTo(await Sql.ScalarAsync<string>("SELECT payload::text FROM relay.documents WHERE doc_key = $1", $"{topic}:big")));
    }

    [Test]
    public async Task Client_refusedToken_isReportedAsUpgradeRefusedWith401_andRetried()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var failures = new List<Exception>();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => ValueTask.FromResult("not-a-jwt"),
            WatermarkStore = new InMemoryWatermarkStore(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        client.ConnectionFailed += e => { lock (failures) { failures.Add(e); } };
        await client.SubscribeAsync(["runtime.run_summaries"]);
        client.Start();

        await Eventually.ThatAsync(() => { lock (failures) { return failures.Count >= 2; } }, "two refused attempts");
        lock (failures)
        {
            Assert.That(failures, Has.All.TypeOf<UpgradeRefusedException>()
                .With.Property(nameof(UpgradeRefusedException.StatusCode)).EqualTo(System.Net.HttpStatusCode.Unauthorized)
                // Before, every refusal read "HTTP 401": an expired token could not be told from a misconfigured key.
                .And.Property(nameof(UpgradeRefusedException.Reason)).EqualTo("malformed")
                .And.Message.EndsWith("token refused: malformed"));
        }
    }

    /// <summary>Publishes <c>{prefix}{first}</c> … <c>{prefix}{first + count - 1}</c>, keyed by the topic.</summary>
    public static async Task PublishAsync(string topic, string prefix, int first, int count)
    {
        for (var i = first; i < first + count; i++)
        {
            await Sql.ExecuteAsync("SELECT relay.publish($1, $2, $3::jsonb)", topic, $"{topic}:{prefix}{i}", $$"""{"i":{{i}},"at":"{{Guid.NewGuid()}}"}""");
        }
    }
}
