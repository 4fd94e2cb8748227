namespace Relay.Tests.Functions;

public sealed class PublishBatchTests
{
    private const string PublishBatch = "SELECT doc_key, watermark, doc_version FROM relay.publish_batch($1, $2::jsonb)";

    [Test]
    public async Task PublishBatch_ofN_getsNContiguousWatermarks()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':before', '{}')", topic);
        var docs = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => $$$"""{"doc_key":"d{{{i}}}","payload":{"i":{{{i}}}}}""")) + "]";
        docs = docs.KeyedBy(topic);

        var rows = await Sql.RowsAsync(PublishBatch, topic, docs);

        Assert.That(rows.Select(r => (long)r[1]!), Is.EqualTo(Enumerable.Range(2, 100).Select(i => (long)i)));
        Assert.That(rows.Select(r => (string)r[0]!), Is.EqualTo(Enumerable.Range(0, 100).Select(i => $"{topic}:d{i}")));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(101));
    }

    [Test]
    public async Task PublishBatch_withNoOps_keepsWatermarksContiguous()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(PublishBatch, topic, """[{"doc_key":"a","payload":{"v":1},"doc_version":1}]""".KeyedBy(topic));

        var rows = await Sql.RowsAsync(PublishBatch, topic,
            """[{"doc_key":"b","payload":{}},{"doc_key":"a","payload":{"v":1},"doc_version":1},{"doc_key":"c","payload":{}}]""".KeyedBy(topic));

        Assert.That(rows, Is.EqualTo(new[]
        {
            new object?[] { topic + ":b", 2L, 1L },
            new object?[] { topic + ":a", null, 1L },
            new object?[] { topic + ":c", 3L, 1L },
        }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(3));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1", topic), Is.EqualTo(3));
    }

    [Test]
    public async Task PublishBatch_sameDocumentTwice_journalsBothVersionsInOrder()
    {
        var topic = await TestTopics.CreateAsync();

        var rows = await Sql.RowsAsync(PublishBatch, topic, """[{"doc_key":"a","payload":{"v":1}},{"doc_key":"a","payload":{"v":2}}]""".KeyedBy(topic));

        Assert.That(rows, Is.EqualTo(new[] { new object?[] { topic + ":a", 1L, 1L }, new object?[] { topic + ":a", 2L, 2L } }));
    }

    [Test]
    public async Task PublishBatch_oneBadDocument_rollsBackTheWholeBatch()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET max_payload_bytes = 50 WHERE topic = $1", topic);

        await Sql.FailsAsync("RL005", PublishBatch, topic, $$$"""[{"doc_key":"a","payload":{}},{"doc_key":"b","payload":{"t":"{{{new string('x', 60)}}}"}}]""".KeyedBy(topic));

        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(0));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.documents WHERE topic = $1", topic), Is.EqualTo(0));
    }

    [Test]
    public async Task PublishBatch_emptyArray_returnsNothing()
    {
        var topic = await TestTopics.CreateAsync();

        Assert.That(await Sql.RowsAsync(PublishBatch, topic, "[]"), Is.Empty);
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(0));
    }
}
