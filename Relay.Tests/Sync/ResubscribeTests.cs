namespace Relay.Tests.Sync;

/// <summary>
/// Subscribing to a topic that is already subscribed restarts it from the new resume point (WS_MAPPING §4): once the new
/// <c>Subscribed</c> has arrived, every update of the topic comes from the new subscription. Found by
/// <see cref="StateMachine.SubscribeStateMachineTests"/>.
/// </summary>
public sealed class ResubscribeTests
{
    private const int Attempts = 20;

    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    [Test]
    public async Task Resubscribe_whileTheOldSubscriptionReplays_noUpdateOfTheOldOneFollowsTheNewSubscribed()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 10000) i", topic);
        var late = new List<string>();
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            await using var client = await WsClient.ConnectAsync(s_relay);
            await client.SubscribeAsync(topic, after: 0);
            var again = await client.SubscribeAsync(topic, after: 10000);
            await client.ReceiveUntilAsync(e => e.Ref == again);
            var after = await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
            late.AddRange(after.Where(e => e.UpdateBatch is not null).SelectMany(e => e.UpdateBatch.Updates)
                .Select(u => $"attempt {attempt}: {u.Topic}@{u.Watermark}"));
        }

        Assert.That(late, Is.Empty, $"updates of the replaced subscription, after the Subscribed that replaced it ({late.Count})");
    }
}
