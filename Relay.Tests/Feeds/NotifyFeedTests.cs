namespace Relay.Tests.Feeds;

public sealed class NotifyFeedTests
{
    [Test]
    public async Task NotifyFeed_wakeUps_deliverWithoutTheSafetyNetPoll()
    {
        var topic = await TestTopics.CreateAsync();
        await using var relay = await CoreHarness.StartAsync("notify", notifyPoll: TimeSpan.FromHours(1));

        for (var i = 1; i <= 20; i++)
        {
            await Writers.RunAsync(TestDatabase.ConnectionString, [topic], writers: 1, perWriter: 1);
            await relay.WaitForHeadAsync(topic, i);
        }

        Assert.That(relay.Logs.Find(topic)!.Head, Is.EqualTo(20));
    }
}
