using System.Collections.Concurrent;
using System.Diagnostics;
using Relay.Client;

namespace Relay.Tests.Client;

/// <summary>
/// The C# client at its edges: application handlers that throw or block, tokens that cannot be refreshed, names the
/// relay refuses, disposal and damaged state (the client review of 2026-12-03, /work/reviews/csclient.md).
/// </summary>
public sealed class ClientEdgeTests
{
    [Test]
    public async Task Client_documentChangedHandlerThrowingOnce_failsTheConnection_andTheChangeIsRaisedAgain()
    {
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 3);
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = TestClients.Create(relay);
        var raised = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<Exception>();
        var thrown = 0;
        client.DocumentChanged += change =>
        {
            if (change.Document.DocKey == $"{topic}:doc2" && Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new InvalidOperationException("handler failure (test)");
            }
            raised.Enqueue(change.Document.DocKey);
        };
        client.ConnectionFailed += failures.Enqueue;
        await client.SubscribeAsync([topic]);
        client.Start();

        // Before, doc2 was in the cache before its handler ran, so the replay after the reconnect skipped it for good.
        await Eventually.ThatAsync(() => raised.Contains($"{topic}:doc2"), "doc2 raised again after its handler threw");
        await client.CaughtUpAsync(topic);
        Assert.That(raised.Distinct(), Is.EquivalentTo(new[] { $"{topic}:doc1", $"{topic}:doc2", $"{topic}:doc3" }));
        Assert.That(failures.Select(failure => failure.Message), Has.One.EqualTo("handler failure (test)"), "the handler's exception is reported");
    }

    [Test]
    public async Task Client_restartedFromAStateSavedWhileAHandlerRan_raisesThatChangeAgain()
    {
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 1);
        var directory = Directory.CreateTempSubdirectory("relay-handler-");
        try
        {
            var path = Path.Combine(directory.FullName, "state.json");
            var crashed = Path.Combine(directory.FullName, "crashed.json");
            await using var relay = await RelayServerHarness.StartAsync();
            using var entered = new SemaphoreSlim(0);
            using var release = new ManualResetEventSlim();
            var cache = new DocumentCache();
            var store = new FileWatermarkStore(path, cache);
            await using (var first = TestClients.Create(relay, store, cache))
            {
                first.DocumentChanged += change =>
                {
                    if (change.Document.DocKey == $"{topic}:doc2")
                    {
                        entered.Release();
                        release.Wait();
                    }
                };
                await first.SubscribeAsync([topic]);
                first.Start();
                await first.CaughtUpAsync(topic);
                await RelayClientTests.PublishAsync(topic, "doc", 2, 1);
                Assert.That(await entered.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "doc2's handler runs");

                // A save while the handler works (the background one, on its interval), then the process dies: the file
                // holds doc2, but not the watermark of its batch.
                await store.FlushAsync();
                File.Copy(path, crashed);
                release.Set();
            }

            var raised = new ConcurrentQueue<string>();
            var restartedCache = new DocumentCache();
            await using var restarted = TestClients.Create(relay, new FileWatermarkStore(crashed, restartedCache), restartedCache);
            restarted.DocumentChanged += change => raised.Enqueue(change.Document.DocKey);
            await restarted.SubscribeAsync([topic]);
            await restarted.LoadAsync();
            Assert.That(restarted.Documents(topic).Keys, Does.Contain($"{topic}:doc2"), "the saved state holds doc2");
            restarted.Start();

            // Before, the replay's doc2 was dropped as not newer than the one held: its handler never finished.
            await Eventually.ThatAsync(() => raised.Contains($"{topic}:doc2"), "doc2 raised again after the restart");
            Assert.That(raised, Does.Not.Contain($"{topic}:doc1"), "a change whose batch ended is not raised again");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [TestCase("ConnectionFailed")]
    [TestCase("StateChanged")]
    public async Task Client_whoseHandlerThrowsBetweenConnections_keepsReconnecting(string handler)
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await RelayServerHarness.StartAsync();
        var client = TestClients.Create(relay);
        if (handler == "ConnectionFailed")
        {
            client.ConnectionFailed += _ => throw new InvalidOperationException("ConnectionFailed handler failure (test)");
        }
        else
        {
            client.StateChanged += state =>
            {
                if (state is ConnectionState.Disconnected or ConnectionState.Stopped)
                {
                    throw new InvalidOperationException("StateChanged handler failure (test)");
                }
            };
        }
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);

        client.AbortConnection();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 1);

        // Before, the handler's exception ended the client's loop: no reconnect, State stuck, nothing reported.
        await Eventually.ThatAsync(() => client.Documents(topic).ContainsKey($"{topic}:doc1"), "the update after the reconnect");
        Assert.That(async () => await client.DisposeAsync(), Throws.Nothing, "disposing does not throw the handler's exception");
        Assert.That(async () => await client.DisposeAsync(), Throws.Nothing, "nor does disposing again");
    }

    [Test]
    public async Task Dispose_calledAgainWhileTheFirstRuns_waitsForIt()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var client = await TestClients.StartAsync(relay, [topic]);
        await client.CaughtUpAsync(topic);

        var first = client.DisposeAsync().AsTask();
        await client.DisposeAsync();

        // Before, the second call returned at once, before the state was flushed.
        Assert.That(first.IsCompleted, Is.True, "the second call returned only once the first had");
        Assert.That(client.State, Is.EqualTo(ConnectionState.Stopped));
    }

    [Test]
    public async Task Subscribe_nameThatIsNoTopic_throws_andAddsNone()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 1);
        await using var client = TestClients.Create(relay);

        // Before, the relay refused the whole Subscribe with BAD_REQUEST and the client sat "Connected" with nothing.
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await client.SubscribeAsync([topic, "runtime.Bad"]));
        await client.SubscribeAsync([topic]);
        client.Start();

        Assert.That(refused!.Message, Does.StartWith("'runtime.Bad' is not a topic name"));
        await client.CaughtUpAsync(topic);
        Assert.That(client.Documents(topic), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Client_whoseWholeSubscribeIsRefused_reportsIt_ratherThanWaitingSilently()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:MaxTopicsPerSubscribe"] = "2" });
        var topics = new[] { await TestTopics.CreateAsync(), await TestTopics.CreateAsync(), await TestTopics.CreateAsync() };
        var failures = new ConcurrentQueue<Exception>();
        await using var client = TestClients.Create(relay);
        client.ConnectionFailed += failures.Enqueue;
        await client.SubscribeAsync(topics);
        client.Start();

        await Eventually.ThatAsync(() => !failures.IsEmpty, "the refused Subscribe reported");
        Assert.That(failures.First().Message, Does.StartWith("the relay refused a Subscribe: Subscribe names 3 topics; the limit is 2"));
    }

    [TestCase(3600, 60, 3540, TestName = "RefreshTime_tokenLongerThanTheMargin_isTheMarginBeforeExpiry")]
    [TestCase(30, 60, 15, TestName = "RefreshTime_tokenShorterThanTheMargin_isHalfwayThroughIt")]
    [TestCase(60, 60, 30, TestName = "RefreshTime_tokenAsLongAsTheMargin_isHalfwayThroughIt")]
    public void RefreshTime(int lifetimeSeconds, int marginSeconds, int expectedAfterSeconds)
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(20_000);

        // Before, a token living no longer than the margin was refreshed on every one-second tick, for good.
        var at = RelayClient.RefreshTime(now.AddSeconds(lifetimeSeconds), now, TimeSpan.FromSeconds(marginSeconds));

        Assert.That(at, Is.EqualTo(now.AddSeconds(expectedAfterSeconds)));
    }

    [TestCase("the same token")]
    [TestCase("an exception")]
    public async Task Client_whoseProviderHasNoFreshTokenAtRefresh_asksAgain(string answer)
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var lifetime = TimeSpan.FromMinutes(10);
        // Minted when first asked for, not before the relay starts: a refresh planned for before the connection opened
        // (a machine under load) fell back to halfway through the token's life, five minutes on.
        var token = new Lazy<string>(() => RelayServerHarness.Token(lifetime: lifetime));
        var calls = 0;
        var failures = new ConcurrentQueue<Exception>();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => Interlocked.Increment(ref calls) > 1 && answer == "an exception"
                ? throw new HttpRequestException("the identity provider is down (test)")
                : ValueTask.FromResult(token.Value),
            // A refresh five seconds after the token was minted.
            TokenRefreshMargin = lifetime - TimeSpan.FromSeconds(5),
            WatermarkStore = new InMemoryWatermarkStore(),
        });
        client.ConnectionFailed += failures.Enqueue;
        await client.SubscribeAsync([topic]);
        client.Start();

        // Before, the client asked once and never again on that connection (the relay then closed it at the token's
        // deadline), or, when the provider threw, its keep-alive died: no more pings, closed as idle.
        await Eventually.ThatAsync(() => Volatile.Read(ref calls) >= 3, "the provider asked again",
            RelayClient.TokenRetryDelay + TimeSpan.FromSeconds(20));
        Assert.That(failures, Is.Empty, "the connection goes on with the token in force");
        Assert.That(client.State, Is.EqualTo(ConnectionState.Connected));
    }

    [Test]
    public async Task Subscribe_thatTheRelayDoesNotAnswer_failsTheConnectionAfterSubscribeTimeout_andTheNextSubscribesAgain()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "t", 1, 1);
        var failures = new ConcurrentQueue<Exception>();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => ValueTask.FromResult(RelayServerHarness.Token()),
            WatermarkStore = new InMemoryWatermarkStore(),
            SubscribeTimeout = TimeSpan.FromSeconds(2),
        });
        client.ConnectionFailed += failures.Enqueue;

        await using (var blocker = await BlockedReads.LockAsync("relay.topics", "relay.topics"))
        {
            // The relay reads a topic it has no log of yet before it answers: held up by the lock, it answers nothing.
            // Before, the client waited for good, Connected, the topic not followed.
            await client.SubscribeAsync([topic]);
            client.Start();
            await Eventually.ThatAsync(() => failures.Any(e => e is TimeoutException && e.Message.Contains("SubscribeTimeout", StringComparison.Ordinal)),
                "the unanswered Subscribe to fail the connection", TimeSpan.FromSeconds(20));
        }

        await Eventually.ThatAsync(() => client.Cache.VersionOf(topic, $"{topic}:t1") is not null, "the next connection to subscribe again and catch up",
            TimeSpan.FromSeconds(60));
        Assert.That(failures.First().Message, Does.StartWith($"the relay did not answer the Subscribe of {topic} within 2 s"));
    }

    [Test]
    public async Task Dispose_duringABatch_stopsAfterTheHandlerInProgress()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        var client = TestClients.Create(relay);
        using var entered = new SemaphoreSlim(0);
        var disposing = 0;
        var raisedWhileDisposing = 0;
        client.DocumentChanged += _ =>
        {
            if (Volatile.Read(ref disposing) == 1)
            {
                Interlocked.Increment(ref raisedWhileDisposing);
            }
            entered.Release();
            Thread.Sleep(300);
        };
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);
        await Sql.ExecuteAsync(
            "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || i, 'payload', '{}'::jsonb)) FROM generate_series(1, 20) i))",
            topic);
        Assert.That(await entered.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "the batch's first handler runs");

        Volatile.Write(ref disposing, 1);
        var watch = Stopwatch.StartNew();
        await client.DisposeAsync();

        // Before, disposing waited for the rest of the batch, raising each of its 19 changes: about 6 s here.
        Assert.That(Volatile.Read(ref raisedWhileDisposing), Is.LessThanOrEqualTo(1), "at most the handler already called");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Hydrate_whileTheClientRuns_outsideTheStaleCursorHandler_isRefused()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await using var client = await TestClients.StartAsync(relay, [topic]);
        await client.CaughtUpAsync(topic);

        // Before, it ran beside the receive loop: overlapping events, versions going back, a cache left stale.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.HydrateAsync(topic));

        Assert.That(refused!.Message, Does.Contain("RelayClientOptions.OnStaleCursor"));
    }

    [Test]
    public async Task Client_whoseTopicGoesStaleWhileConnected_isCaughtUpAgainOnlyAfterTheNewReplay()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 2);
        await using var client = TestClients.Create(relay);
        var caughtUp = 0;
        var staleSeen = 0;
        var caughtUpAfterStale = 0;
        client.CaughtUp += _ =>
        {
            Interlocked.Increment(ref caughtUp);
            if (Volatile.Read(ref staleSeen) == 1)
            {
                Interlocked.Increment(ref caughtUpAfterStale);
            }
        };
        client.ErrorReceived += error =>
        {
            if (error.Code == OpenAgents.Sync.V1.ErrorCode.StaleCursor)
            {
                Volatile.Write(ref staleSeen, 1);
            }
        };
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);
        await Eventually.ThatAsync(() => Volatile.Read(ref caughtUp) == 1, "caught up once");

        await Sql.ExecuteAsync("SELECT * FROM relay.reset_epoch($1)", topic);

        // Before, IsCaughtUp stayed true through the re-read and the new replay, and CaughtUp was not raised again.
        await Eventually.ThatAsync(() => Volatile.Read(ref caughtUpAfterStale) == 1, "caught up again after the stale cursor");
        Assert.That(client.IsCaughtUp(topic), Is.True);
    }

    [Test]
    public async Task Client_tokenProviderHangingForAnHttpFetch_failsTheConnectionWithinTheTimeout_andResumes()
    {
        // Before, only the in-band refresh had a deadline: a provider that never answered for a payload fetch held the
        // receive loop for good while the client said Connected, and at connect held it in Connecting (C# client
        // review 1).
        var topic = await TestTopics.CreateAsync();
        await using var relay = await RelayServerHarness.StartAsync();
        var hang = 0;
        var failures = new ConcurrentQueue<Exception>();
        await using var client = new RelayClient(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => Interlocked.Exchange(ref hang, 0) == 1
                ? new ValueTask<string>(new TaskCompletionSource<string>().Task)
                : ValueTask.FromResult(RelayServerHarness.Token()),
            TokenProviderTimeout = TimeSpan.FromSeconds(1),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        client.ConnectionFailed += failures.Enqueue;
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);

        // Over 256 KiB: sent without its payload, which the client fetches over HTTP with a token it asks for.
        Volatile.Write(ref hang, 1);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $2, $3::jsonb)", topic, $"{topic}:big", $$"""{"text":"{{new string('x', 300_000)}}"}""");

        await client.CaughtUpAsync(topic);
        Assert.That(client.Documents(topic), Does.ContainKey($"{topic}:big"));
        Assert.That(failures.Select(e => e.Message), Is.EqualTo(new[] { "the token provider did not answer within 1 s (RelayClientOptions.TokenProviderTimeout)" }));
    }

    [Test]
    public async Task Client_handlerThrowingOnADeletionOfAReHydration_isRaisedItAgain_andTheDeletionsAfterIt()
    {
        // Before, the cache had dropped them all before the first was raised: the next re-hydration found nothing to
        // drop, and the app kept the deleted documents for good (C# client review 2). When the relay still had the
        // events, the first connection applied the first tombstone and its handler threw; the next one re-hydrated
        // (the journal pruned meanwhile) and dropped that tombstone without raising it again.
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "d", 1, 3);
        var store = new InMemoryWatermarkStore();
        var cache = new DocumentCache();
        await TestClients.CatchUpOnceAsync(relay, store, cache, topic);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:d1");
        await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:d2");
        await RelayClientTests.PublishAsync(topic, "e", 1, 1);
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", topic);
        await using var after = TestClients.Create(relay, store, cache);
        var deleted = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<Exception>();
        var thrown = 0;
        after.DocumentChanged += change =>
        {
            if (change.Document.Deleted && Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new InvalidOperationException("handler failure (test)");
            }
            if (change.Document.Deleted)
            {
                deleted.Enqueue(change.Document.DocKey);
            }
        };
        after.ConnectionFailed += failures.Enqueue;
        await after.SubscribeAsync([topic]);
        after.Start();

        await Eventually.ThatAsync(() => deleted.Count >= 2, "both deletions raised");
        await after.CaughtUpAsync(topic);
        Assert.That(deleted.Order(StringComparer.Ordinal), Is.EqualTo(new[] { $"{topic}:d1", $"{topic}:d2" }));
        Assert.That(after.Documents(topic).Keys, Is.EquivalentTo(new[] { $"{topic}:d3", $"{topic}:e1" }));
        Assert.That(failures.Select(e => e.Message), Has.Some.Contains("handler failure (test)"));
    }
}
