using Npgsql;

namespace Relay.Tests.Sync;

/// <summary>A slow application transaction on one topic never delays another topic's deliveries.</summary>
public sealed class TopicIsolationTests
{
    [TestCase("replication")]
    [TestCase("notify")]
    public async Task OpenTransactionHoldingOneTopicsWatermark_doesNotDelayAnotherTopic(string feed)
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Feed"] = feed });
        var held = await TestTopics.CreateAsync();
        var free = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET notify = true WHERE topic IN ($1, $2)", held, free);
        await using var client = await WsClient.ConnectAsync(relay);
        await client.SubscribeAsync(free);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(free) == true);

        // The application's transaction takes the held topic's row and stays open.
        await using var slow = await TestDatabase.DataSource.OpenConnectionAsync();
        await using var transaction = await slow.BeginTransactionAsync();
        await using (var publish = new NpgsqlCommand("SELECT relay.publish($1, $1 || ':slow', '{}')", slow, transaction))
        {
            publish.Parameters.AddWithValue(held);
            await publish.ExecuteNonQueryAsync();
        }
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':fast', '{}')", free);
        var delivered = await client.UpdatesThroughAsync(free, 1);
        await transaction.RollbackAsync();

        Assert.That(delivered.Select(u => u.DocKey), Is.EqualTo(new[] { free + ":fast" }));
    }
}
