using System.Text;
using OpenAgents.Sync.V1;
using Relay.Core.Journal;
using Relay.Protocol;

namespace Relay.Tests.Sync;

[TestFixture(SyncEndpoints.ProtoSubprotocol)]
[TestFixture(SyncEndpoints.JsonSubprotocol)]
public sealed class DeliveryTests(string subprotocol)
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static Task PublishAsync(string topic, int count, int from = 1, string org = "org-1", int fill = 10) =>
        Sql.ExecuteAsync(
            "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || i, 'org_id', $4::text, " +
            "'payload', jsonb_build_object('i', i, 'fill', repeat('x', $5)))) FROM generate_series($2, $2 + $3 - 1) i))",
            topic, from, count, org, fill);

    [Test]
    public async Task Subscribe_fromZero_replaysInBoundedBatchesThenGoesLive()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 450);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        var subscribeRef = await client.SubscribeAsync(topic);
        var subscribed = await client.ReceiveAsync();
        Assert.That(subscribed!.Ref, Is.EqualTo(subscribeRef));
        Assert.That(subscribed.Subscribed.CurrentWatermarks[topic], Is.EqualTo(450));
        var replay = await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
        await PublishAsync(topic, 3, from: 451);
        var live = await client.ReceiveAsync();

        var batches = replay.Select(e => e.UpdateBatch).ToList();
        Assert.That(batches.SelectMany(b => b.Updates).Select(u => u.Watermark), Is.EqualTo(Enumerable.Range(1, 450).Select(w => (long)w)));
        Assert.That(batches.Select(b => b.Updates.Count), Has.All.LessThanOrEqualTo(200));
        Assert.That(batches.Select(b => b.Phase), Has.All.EqualTo(BatchPhase.Replay));
        Assert.That(live!.UpdateBatch.Phase, Is.EqualTo(BatchPhase.Live));
        Assert.That(live.UpdateBatch.Updates.Select(u => u.Watermark), Is.EqualTo(new long[] { 451, 452, 453 }));
        var first = batches[0].Updates[0];
        Assert.That(Encoding.UTF8.GetString(first.Payload.Span), Is.EqualTo($$"""{"i": 1, "fill": "xxxxxxxxxx"}"""));
        Assert.That(first.PayloadHash.Length, Is.EqualTo(32));
    }

    [Test]
    public async Task Subscribe_severalTopicsWithTheirOwnResumePoints_replaysEachFromItsPoint()
    {
        var first = await TestTopics.CreateAsync();
        var second = await TestTopics.CreateAsync();
        await PublishAsync(first, 10);
        await PublishAsync(second, 10);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SendAsync(new ClientEnvelope
        {
            Subscribe = new Subscribe { Topics = { first, second }, ResumeAfter = { [first] = 7, [second] = 2 } },
        });
        var envelopes = await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(first) == true);
        var rest = envelopes.Any(e => e.UpdateBatch?.CaughtUpTopics.Contains(second) == true)
            ? []
            : await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(second) == true);
        var updates = envelopes.Concat(rest).Where(e => e.UpdateBatch is not null).SelectMany(e => e.UpdateBatch.Updates).ToList();

        Assert.That(updates.Where(u => u.Topic == first).Select(u => u.Watermark), Is.EqualTo(new long[] { 8, 9, 10 }));
        Assert.That(updates.Where(u => u.Topic == second).Select(u => u.Watermark), Is.EqualTo(Enumerable.Range(3, 8).Select(w => (long)w)));
    }

    [Test]
    public async Task Subscribe_atHead_getsAnEmptyCaughtUpBatchThenLive()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 5);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SubscribeAsync(topic, after: 5);
        Assert.That((await client.ReceiveAsync())!.MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Subscribed));
        var caughtUp = (await client.ReceiveAsync())!.UpdateBatch;

        Assert.That(caughtUp.Updates, Is.Empty);
        Assert.That(caughtUp.CaughtUpTopics, Is.EqualTo(new[] { topic }));
        Assert.That(caughtUp.Watermarks[topic], Is.EqualTo(5));
    }

    [Test]
    public async Task Update_payloadOver256KiB_isOmittedWithItsHash_andServedOverHttp()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 1, fill: 300_000);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SubscribeAsync(topic);
        var update = (await client.UpdatesThroughAsync(topic, 1)).Single();

        Assert.That((update.PayloadOmitted, update.Payload.Length, update.PayloadHash.Length), Is.EqualTo((true, 0, 32)));
        using var http = s_relay.HttpClient(RelayServerHarness.Token());
        var document = await http.GetStringAsync($"/sync/v1/doc/{Uri.EscapeDataString(update.DocKey)}");
        Assert.That(document, Does.Contain(new string('x', 300_000)));
        Assert.That(document, Does.Contain(Convert.ToBase64String(update.PayloadHash.ToByteArray())));
    }

    [Test]
    public async Task Replay_ofPayloadsSentOmitted_isNotCutIntoBatchesOfAFew()
    {
        // 20 payloads of 300 KB: 6 MB held, nothing of them sent (WS_MAPPING §5.4), so one batch carries all 20.
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 20, fill: 300_000);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SubscribeAsync(topic);
        var batches = (await client.ReceiveUntilAsync(e => e.UpdateBatch?.Watermarks.GetValueOrDefault(topic) >= 20))
            .Where(e => e.UpdateBatch?.Updates.Count > 0).ToList();
        var fromJournal = await new JournalReader(TestDatabase.DataSource).ReadAsync(topic, 0, 20, 200, ProtocolLimits.MaxBatchPayloadBytes);

        Assert.That(batches.Select(e => e.UpdateBatch.Updates.Count), Is.EqualTo(new[] { 20 }));
        Assert.That(fromJournal, Has.Count.EqualTo(20));
    }

    [Test]
    public async Task Update_deletedDocument_arrivesAsTombstone()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishAsync(topic, 1);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':1')", topic);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SubscribeAsync(topic);
        var updates = await client.UpdatesThroughAsync(topic, 2);

        Assert.That(updates.Select(u => (u.Watermark, u.DocVersion, u.Tombstone, u.Payload.IsEmpty, u.PayloadHash.Length)),
            Is.EqualTo(new[] { (1L, 1L, false, false, 32), (2L, 2L, true, true, 0) }));
    }

    [Test]
    public async Task Update_pointerTopic_deliversTheCurrentDocument()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':d', '{\"v\":1}')", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':d', '{\"v\":2}')", topic);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SubscribeAsync(topic);
        var updates = await client.UpdatesThroughAsync(topic, 2);

        Assert.That(updates.Select(u => (u.DocVersion, Encoding.UTF8.GetString(u.Payload.Span))), Is.EqualTo(new[] { (2L, """{"v": 2}""") }));
    }

    [Test]
    public async Task Subscribe_staleCursors_areRefusedPerTopicAfterSubscribed()
    {
        var pruned = await TestTopics.CreateAsync();
        var fine = await TestTopics.CreateAsync();
        await PublishAsync(pruned, 5);
        await Sql.ExecuteAsync("SELECT relay.prune($1, '0 seconds')", pruned);
        await PublishAsync(fine, 2);
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);

        await client.SendAsync(new ClientEnvelope
        {
            Subscribe = new Subscribe { Topics = { pruned, fine }, ResumeAfter = { [pruned] = 1, [fine] = 9 } },
        });
        var subscribed = (await client.ReceiveAsync())!.Subscribed;
        var errors = new[] { (await client.ReceiveAsync())!.Error, (await client.ReceiveAsync())!.Error };

        Assert.That(subscribed.CurrentWatermarks, Is.Empty);
        Assert.That(errors.Select(e => (e.Code, e.Topic)), Is.EquivalentTo(new[] { (ErrorCode.StaleCursor, pruned), (ErrorCode.StaleCursor, fine) }));
    }

    [Test]
    public async Task Unsubscribe_acknowledged_noUpdateOfTheTopicFollows()
    {
        var topic = await TestTopics.CreateAsync();
        await using var client = await WsClient.ConnectAsync(s_relay, subprotocol);
        await client.SubscribeAsync(topic);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);

        var unsubscribeRef = await client.SendAsync(new ClientEnvelope { Unsubscribe = new Unsubscribe { Topics = { topic } } });
        var ack = await client.ReceiveUntilAsync(e => e.Ref == unsubscribeRef);
        await PublishAsync(topic, 5);
        var pingRef = await client.SendAsync(new ClientEnvelope { Ping = new Ping() });
        var afterwards = await client.ReceiveUntilAsync(e => e.Ref == pingRef);

        Assert.That(ack[^1].MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack));
        Assert.That(afterwards.Where(e => e.UpdateBatch is not null), Is.Empty);
    }
}
