using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Sync;

/// <summary>
/// A client resumes with the epoch it stored beside its watermark; another epoch (a restored or moved database) gets
/// STALE_CURSOR for that topic, so the client re-hydrates instead of silently diverging.
/// </summary>
public sealed class EpochTests
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static Task<string> SubscribeAsync(WsClient client, string topic, long after, string? epoch) =>
        client.SendAsync(new ClientEnvelope
        {
            Subscribe = new Subscribe
            {
                Topics = { topic },
                ResumeAfter = { [topic] = after },
                ResumeEpochs = { epoch is null ? [] : new Dictionary<string, string> { [topic] = epoch } },
            },
        });

    [Test]
    public async Task SubscribedAndHeartbeats_carryTheTopicsEpoch()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:HeartbeatInterval"] = "00:00:00.200" });
        var topic = await TestTopics.CreateAsync();
        var epoch = await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topic);
        await using var client = await WsClient.ConnectAsync(relay);

        await client.SubscribeAsync(topic);
        var subscribed = (await client.ReceiveUntilAsync(e => e.Subscribed is not null))[^1].Subscribed;
        var heartbeat = (await client.ReceiveUntilAsync(e => e.Heartbeat is not null))[^1].Heartbeat;

        Assert.That(subscribed.Epochs[topic], Is.EqualTo(epoch));
        Assert.That(heartbeat.Epochs[topic], Is.EqualTo(epoch));
    }

    [Test]
    public async Task Resume_withTheStoredEpoch_replaysFromTheWatermark_butWithAnotherEpoch_isStaleCursor()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 3) i", topic);
        var epoch = await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topic);
        await using var same = await WsClient.ConnectAsync(s_relay);
        await using var other = await WsClient.ConnectAsync(s_relay);

        await SubscribeAsync(same, topic, 1, epoch);
        await SubscribeAsync(other, topic, 1, "an-epoch-of-another-database");
        var replay = await same.UpdatesThroughAsync(topic, 3);
        var refused = (await other.ReceiveUntilAsync(e => e.Error is not null))[^1].Error;

        Assert.That(replay.Select(u => u.Watermark), Is.EqualTo(new[] { 2L, 3L }));
        Assert.That((refused.Code, refused.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)));
    }

    [Test]
    public async Task ResetEpoch_whileSubscribedAtTheHead_endsTheSubscriber_andRefusesAResumeThereWithTheOldEpoch()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':1', '{}')", topic);
        var epoch = await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topic);
        await using var live = await WsClient.ConnectAsync(s_relay);
        await live.SubscribeAsync(topic);
        await live.UpdatesThroughAsync(topic, 1);

        // No client subscribes meanwhile: the relay learns of the new epoch from the reset itself.
        await Sql.ExecuteAsync("SELECT relay.reset_epoch($1)", topic);
        var ended = (await live.ReceiveUntilAsync(e => e.Error is not null))[^1].Error;
        await using var resuming = await WsClient.ConnectAsync(s_relay);
        await SubscribeAsync(resuming, topic, 1, epoch);
        var refused = (await resuming.ReceiveUntilAsync(e => e.Error is not null))[^1].Error;

        Assert.That((ended.Code, ended.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)));
        Assert.That((refused.Code, refused.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)), "a resume at the relay's head with the old epoch");
    }

    [Test]
    public async Task ResetEpoch_whileSubscribed_endsTheOldEpochsSubscribersWithStaleCursor_onceTheRelayReadsIt()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':1', '{}')", topic);
        await using var live = await WsClient.ConnectAsync(s_relay);
        await live.SubscribeAsync(topic);
        await live.UpdatesThroughAsync(topic, 1);

        await Sql.ExecuteAsync("SELECT relay.reset_epoch($1)", topic);
        // The relay reads the topic's row when a client subscribes (and when its feed reconnects).
        await using var newcomer = await WsClient.ConnectAsync(s_relay);
        await newcomer.SubscribeAsync(topic);
        var ended = (await live.ReceiveUntilAsync(e => e.Error is not null))[^1].Error;

        Assert.That((ended.Code, ended.Topic), Is.EqualTo((ErrorCode.StaleCursor, topic)));
        Assert.That((await newcomer.UpdatesThroughAsync(topic, 1)).Select(u => u.Watermark), Is.EqualTo(new[] { 1L }));
    }

    [Test]
    public async Task TopicDroppedAndCreatedAgain_pointerDocument_isTheNewTopics_notTheOldOneTheRelayRead()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        for (var version = 1; version <= 9; version++)
        {
            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':k', jsonb_build_object('n', $2::int))", topic, version);
        }
        await using (var old = await WsClient.ConnectAsync(s_relay))
        {
            await old.SubscribeAsync(topic);
            Assert.That((await old.UpdatesThroughAsync(topic, 9))[^1].DocVersion, Is.EqualTo(9), "the relay read v9");
        }

        // docs/sql.md, "Dropping and recreating a topic".
        await Sql.ExecuteAsync($"""
            BEGIN;
            DELETE FROM relay.stream_events WHERE topic = '{topic}';
            DELETE FROM relay.documents WHERE topic = '{topic}';
            DELETE FROM relay.topics WHERE topic = '{topic}';
            SELECT relay.create_topic('{topic}', 'pointer', '7 days', false);
            COMMIT;
            """);
        await Sql.ExecuteAsync("SELECT relay.reset_epoch($1)", topic);
        await using var client = await WsClient.ConnectAsync(s_relay);
        await client.SubscribeAsync(topic);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':k', '{\"n\": 1}')", topic);
        var update = (await client.UpdatesThroughAsync(topic, 1)).Single();

        // Before, the read of the old topic's v9 stood for the new v1: the log started over below the head it was read at.
        Assert.That((update.DocVersion, JsonDocument.Parse(update.Payload.Memory).RootElement.GetProperty("n").GetInt32()), Is.EqualTo((1L, 1)));
    }
}
