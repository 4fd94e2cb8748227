using OpenAgents.Sync.V1;

namespace Relay.Tests.Feeds;

/// <summary>
/// With a synchronous standby, PostgreSQL decodes a commit (and the replication feed receives it) before the standby
/// confirms it and before it is visible; should the primary fail over meanwhile, it never happened. These tests name a
/// standby that never connects (<c>synchronous_standby_names</c>), so that every commit waits for it until the test
/// clears the setting, which lets the waiting commits finish (the multi-node review of 2026-12-03, N1–N3).
/// </summary>
[NonParallelizable]
public sealed class SynchronousStandbyTests
{
    /// <summary>Makes every commit wait for a standby that never comes, until disposed.</summary>
    private static async Task<IAsyncDisposable> StandbyThatNeverConfirmsAsync()
    {
        await Sql.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = 'relay_test_absent_standby'");
        await Sql.ExecuteAsync("SELECT pg_reload_conf()");
        await Eventually.ThatAsync(
            async () => await Sql.ScalarAsync<string>("SHOW synchronous_standby_names") == "relay_test_absent_standby", "the setting in force");
        // The feed reads the setting at most once a second, while commits come.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        return new Release();
    }

    private sealed class Release : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Sql.ExecuteAsync("ALTER SYSTEM RESET synchronous_standby_names");
            await Sql.ExecuteAsync("SELECT pg_reload_conf()");
            await Eventually.ThatAsync(async () => await Sql.ScalarAsync<string>("SHOW synchronous_standby_names") == "", "the setting cleared");
        }
    }

    /// <summary>The first update or error the client receives after subscribing at the head.</summary>
    private static async Task<(WsClient Client, Task<List<ServerEnvelope>> First)> SubscribeAtTheHeadAsync(RelayServerHarness relay, string topic)
    {
        var client = await WsClient.ConnectAsync(relay);
        await client.SubscribeAsync(topic, await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic));
        await client.ReceiveUntilAsync(e => e.Subscribed is not null);
        return (client, client.ReceiveUntilAsync(e => e.UpdateBatch is { Updates.Count: > 0 } || e.Error is not null));
    }

    [TestCase("inline")]
    [TestCase("pointer")]
    public async Task Publish_waitingForTheStandby_isNotDelivered_untilItIsVisible(string mode)
    {
        var topic = await TestTopics.CreateAsync(mode);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':before', '{}')", topic);
        await using var relay = await RelayServerHarness.StartAsync();
        var (client, first) = await SubscribeAtTheHeadAsync(relay, topic);
        await using var _ = client;
        Task publishing;
        await using (await StandbyThatNeverConfirmsAsync())
        {
            publishing = Sql.ExecuteAsync("""SELECT relay.publish($1, $1 || ':held', '{"held": true}')""", topic);

            // Before: delivered as soon as decoded (inline), or as a tombstone a second later (pointer, its row not
            // visible yet), though a failover could still undo the commit.
            var early = await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(3)));
            Assert.That(early, Is.Not.SameAs(first), "nothing is delivered while the commit waits for the standby");
            Assert.That(publishing.IsCompleted, Is.False, "the commit waits for the standby");
        }
        await publishing;

        var update = (await first)[^1].UpdateBatch.Updates.Single();
        Assert.That((update.DocKey, update.Tombstone, update.Payload.ToStringUtf8()), Is.EqualTo(($"{topic}:held", false, """{"held": true}""")));
    }

    [Test]
    public async Task ResetEpoch_waitingForTheStandby_endsTheOldEpochsSubscribers()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':1', '{}')", topic);
        await using var relay = await RelayServerHarness.StartAsync();
        var (client, first) = await SubscribeAtTheHeadAsync(relay, topic);
        await using var _ = client;
        Task resetting;
        await using (await StandbyThatNeverConfirmsAsync())
        {
            resetting = Sql.ExecuteAsync("SELECT relay.reset_epoch($1)", topic);

            // Before, the relay read the topic's row when the reset was decoded, found the old epoch (the commit was not
            // visible yet) and never looked again: its subscribers went on under the old epoch.
            var ended = await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(15)));
            Assert.That(ended, Is.SameAs(first), "the subscriber learns of the reset");
        }
        await resetting;

        var error = (await first)[^1].Error;
        Assert.That((error.Code, error.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)));
    }

    [Test]
    public async Task ResetEpoch_ofADatabaseNotMigratedYet_isReadFromTheTopicsRow()
    {
        // What relay.reset_epoch sent before 2026-12-03: only the topic's name, under the prefix relay.epoch.
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':1', '{}')", topic);
        await using var relay = await RelayServerHarness.StartAsync();
        var (client, first) = await SubscribeAtTheHeadAsync(relay, topic);
        await using var _ = client;

        await Sql.ExecuteAsync("""
            WITH reset AS (UPDATE relay.topics SET epoch = gen_random_uuid()::text WHERE topic = $1 RETURNING topic)
            SELECT pg_logical_emit_message(true, 'relay.epoch', topic) FROM reset
            """, topic);

        var error = (await first)[^1].Error;
        Assert.That((error.Code, error.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)));
    }
}
