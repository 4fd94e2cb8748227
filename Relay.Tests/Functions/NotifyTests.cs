using Npgsql;

namespace Relay.Tests.Functions;

public sealed class NotifyTests
{
    [Test]
    public async Task Publish_notifyEnabledOrNot_wakesListenersOnlyForEnabledTopics()
    {
        var quiet = await TestTopics.CreateAsync();
        var loud = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET notify = true WHERE topic = $1", loud);
        await using var listener = await TestDatabase.DataSource.OpenConnectionAsync();
        var received = new List<(string Channel, string Payload)>();
        listener.Notification += (_, e) => received.Add((e.Channel, e.Payload));
        await using (var listen = new NpgsqlCommand("LISTEN relay_journal", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        // Notifications arrive in commit order, so once the loud one is here the quiet one would have been too.
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':q', '{}')", quiet);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':l', '{}')", loud);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':l')", loud);
        while (received.Count < 2)
        {
            Assert.That(await listener.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "no notification within 30 s");
        }

        Assert.That(received, Is.EqualTo(new[] { ("relay_journal", loud), ("relay_journal", loud) }));
    }

    [Test]
    public async Task PublishBatch_notifyEnabled_wakesListenersOnce()
    {
        var topic = await TestTopics.CreateAsync();
        var marker = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET notify = true WHERE topic IN ($1, $2)", topic, marker);
        await using var listener = await TestDatabase.DataSource.OpenConnectionAsync();
        var received = new List<string>();
        listener.Notification += (_, e) => received.Add(e.Payload);
        await using (var listen = new NpgsqlCommand("LISTEN relay_journal", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await Sql.ExecuteAsync("SELECT relay.publish_batch($1, $2::jsonb)", topic, """[{"doc_key":"a","payload":{}},{"doc_key":"b","payload":{}}]""".KeyedBy(topic));
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':m', '{}')", marker);
        while (!received.Contains(marker))
        {
            Assert.That(await listener.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "no notification within 30 s");
        }

        Assert.That(received, Is.EqualTo(new[] { topic, marker }));
    }
}
