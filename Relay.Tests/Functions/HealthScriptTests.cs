using Relay.Core.Schema;

namespace Relay.Tests.Functions;

public sealed class HealthScriptTests
{
    [Test]
    public async Task HealthScript_reportsHeadsRetainedWindowAndSlots()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish_batch($1, $2::jsonb)", topic, """[{"doc_key":"a","payload":{}},{"doc_key":"b","payload":{}}]""".KeyedBy(topic));
        await Sql.ExecuteAsync("SELECT * FROM relay.prune($1, '0 seconds')", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':c', '{}')", topic);

        await using var command = TestDatabase.DataSource.CreateCommand(SqlScripts.Read("ops/health.sql"));
        await using var reader = await command.ExecuteReaderAsync();
        var topics = new Dictionary<string, (long Head, long RetainedAfter, long Events)>();
        while (await reader.ReadAsync())
        {
            topics[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }
        Assert.That(await reader.NextResultAsync(), Is.True, "the script reports replication slots second");
        Assert.That(reader.GetName(6), Is.EqualTo("retained_wal"));

        Assert.That(topics[topic], Is.EqualTo((3L, 2L, 1L)));
    }
}
