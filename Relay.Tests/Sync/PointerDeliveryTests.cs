using System.Net;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests.Sync;

/// <summary>
/// Pointer topics deliver the document as it is when read (CONTRACT §3): never another organisation's document under
/// a doc_key the client's organisation used to own, and never a version older than the current one.
/// </summary>
public sealed class PointerDeliveryTests
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    /// <summary>Org A inserts then deletes doc_key k, and org B inserts k, all in one transaction.</summary>
    private static Task HandOverAsync(string table) => Sql.ExecuteAsync(
        $$"""
        BEGIN;
        INSERT INTO {{table}} VALUES ('k', 'org-a', 1, '{"owner": "a"}');
        DELETE FROM {{table}} WHERE doc_key = 'k';
        INSERT INTO {{table}} VALUES ('k', 'org-b', 1, '{"owner": "b"}');
        COMMIT;
        """);

    [Test]
    public async Task AttachedTable_docKeyHandedToAnotherOrg_neverReachesTheFormerOwner_live()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await using var a = await WsClient.ConnectAsync(s_relay, token: RelayServerHarness.Token(org: "org-a"));
        await a.SubscribeAsync(topic);
        await a.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);

        await HandOverAsync(table);
        var updates = await UpdatesOrHeartbeatThroughAsync(a, topic, 3);

        Assert.That(updates.Select(u => u.Payload.ToStringUtf8()), Has.None.Contains("\"b\""), "org B's payload");
        Assert.That(updates.Where(u => u.DocKey == "k").Select(u => u.Tombstone).LastOrDefault(true), Is.True, "org A's copy of k is gone");
    }

    [Test]
    public async Task AttachedTable_docKeyHandedToAnotherOrg_neverReachesTheFormerOwner_onReplayOrHttp()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await HandOverAsync(table);
        await using var a = await WsClient.ConnectAsync(s_relay, token: RelayServerHarness.Token(org: "org-a"));
        await using var b = await WsClient.ConnectAsync(s_relay, token: RelayServerHarness.Token(org: "org-b"));

        await a.SubscribeAsync(topic);
        await b.SubscribeAsync(topic);
        var replayA = await UpdatesOrHeartbeatThroughAsync(a, topic, 3);
        var replayB = await UpdatesOrHeartbeatThroughAsync(b, topic, 3);

        Assert.That(replayA.Select(u => (u.DocKey, u.Tombstone, u.Payload.IsEmpty)), Has.All.EqualTo(("k", true, true)));
        Assert.That(replayB.Select(u => (u.DocKey, u.DocVersion, u.Payload.ToStringUtf8())), Is.EqualTo(new[] { ("k", 1L, """{"owner": "b"}""") }));
        using var httpA = s_relay.HttpClient(RelayServerHarness.Token(org: "org-a"));
        Assert.That((await httpA.GetAsync($"/sync/v1/doc/k?topic={topic}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        using var page = JsonDocument.Parse(await httpA.GetStringAsync($"/sync/v1/list/{topic}"));
        Assert.That(page.RootElement.GetProperty("documents").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task LargeAttachedDocuments_areSentInBatchesWithinTheWireBounds()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync(requireOrg: false);
        // 150 documents of 30 KB: 4.5 MB in all, which the journal's rows (no payload in pointer mode) do not show.
        await Sql.ExecuteAsync(
            $$"""INSERT INTO {{table}} SELECT '{{topic}}:' || i, NULL, 1, jsonb_build_object('text', repeat('x', 30000)) FROM generate_series(1, 150) i""");
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SubscribeAsync(topic);
        var batches = (await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true))
            .Where(e => e.UpdateBatch is not null).ToList();

        Assert.That(batches.SelectMany(e => e.UpdateBatch.Updates).Select(u => u.DocKey).Distinct().Count(), Is.EqualTo(150));
        Assert.That(batches.Select(e => e.UpdateBatch.Updates.Sum(u => u.Payload.Length)), Has.All.LessThanOrEqualTo(ProtocolLimits.MaxBatchPayloadBytes));
        Assert.That(batches.Select(e => e.CalculateSize()), Has.All.LessThanOrEqualTo(ProtocolLimits.MaxOutboundFrameBytes));
        Assert.That(batches.Select(e => e.UpdateBatch.Watermarks[topic]), Is.Ordered.Ascending.And.Unique);
    }

    [Test]
    public async Task LateSubscriber_toADocumentReadBefore_getsOnlyTheCurrentVersion()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        var key = topic + ":d";
        await PublishVersionsAsync(topic, key, 1, 3);

        var updates = await LateReplayAsync(topic, 3, () => PublishVersionsAsync(topic, key, 4, 4), 4);

        Assert.That(updates.Select(u => (u.DocVersion, u.Payload.ToStringUtf8())), Is.EqualTo(new[] { (4L, """{"v": 4}""") }),
            "a version read earlier for another subscriber is not current any more");
    }

    [Test]
    public async Task LateSubscriber_toADocumentDeletedSinceItWasRead_getsOnlyTheTombstone()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        var key = topic + ":d";
        await PublishVersionsAsync(topic, key, 1, 2);

        var updates = await LateReplayAsync(topic, 2, () => Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, key), 3);

        Assert.That(updates.Select(u => (u.Tombstone, u.Payload.IsEmpty)), Has.All.EqualTo((true, true)), "the deleted document's old payload");
    }

    /// <summary>
    /// An early subscriber reads the topic through <paramref name="readThrough"/> (so the relay has read its
    /// documents), <paramref name="change"/> runs and reaches it, then a late subscriber replays from the start: its updates.
    /// </summary>
    private static async Task<List<Update>> LateReplayAsync(string topic, long readThrough, Func<Task> change, long changedThrough)
    {
        await using var early = await WsClient.ConnectAsync(s_relay);
        await early.SubscribeAsync(topic);
        await early.UpdatesThroughAsync(topic, readThrough);
        await change();
        await early.UpdatesThroughAsync(topic, changedThrough);
        await using var late = await WsClient.ConnectAsync(s_relay);
        await late.SubscribeAsync(topic);
        return await late.UpdatesThroughAsync(topic, changedThrough);
    }

    [Test]
    public async Task SharedReadKilledMidFlight_everyWaitingSubscriberIsToldUnavailable_andResubscribes()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync(requireOrg: false);
        await Sql.ExecuteAsync($$"""INSERT INTO {{table}} VALUES ('k', NULL, 1, '{"v": 1}')""");
        await using var blocker = await BlockedReads.LockAsync(table);
        await using var a = await WsClient.ConnectAsync(s_relay);
        await using var b = await WsClient.ConnectAsync(s_relay);

        await a.SubscribeAsync(topic);
        await b.SubscribeAsync(topic);
        await blocker.WaitForBlockedReadAsync();
        await blocker.TerminateBlockedReadsAsync();
        var errors = new[] { await ErrorAsync(a), await ErrorAsync(b) };
        await blocker.DisposeAsync();
        await a.SubscribeAsync(topic, 0);

        Assert.That(errors.Select(e => (e.Code, e.Topic, e.RetryAfterMs > 0)), Has.All.EqualTo((ErrorCode.Unavailable, topic, true)));
        Assert.That((await a.UpdatesThroughAsync(topic, 1)).Select(u => u.Payload.ToStringUtf8()), Is.EqualTo(new[] { """{"v": 1}""" }));
    }

    private static async Task<Error> ErrorAsync(WsClient client) => (await client.ReceiveUntilAsync(e => e.Error is not null))[^1].Error;

    private static async Task PublishVersionsAsync(string topic, string key, int from, int to)
    {
        for (var v = from; v <= to; v++)
        {
            await Sql.ExecuteAsync("SELECT relay.publish($1, $2, jsonb_build_object('v', $3::int))", topic, key, v);
        }
    }

    /// <summary>Updates received until a batch or a heartbeat brings <paramref name="topic"/> to <paramref name="through"/>.</summary>
    private static async Task<List<Update>> UpdatesOrHeartbeatThroughAsync(WsClient client, string topic, long through) =>
        [.. (await client.ReceiveUntilAsync(e =>
                (e.UpdateBatch?.Watermarks.GetValueOrDefault(topic) ?? e.Heartbeat?.Watermarks.GetValueOrDefault(topic)) >= through))
            .Where(e => e.UpdateBatch is not null).SelectMany(e => e.UpdateBatch.Updates)];
}
