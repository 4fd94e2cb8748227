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

    [TestCase("""{"doc_key":"a","payload":{"v":1},"doc_version":1}""", "RL003", "regression")]
    [TestCase("""{"doc_key":"a","payload":{"v":9},"doc_version":2}""", "RL004", "conflict")]
    [TestCase("""{"doc_key":"a","payload":{"v":1},"org_id":"org-b"}""", "RL002", "another organisation")]
    public async Task PublishBatch_refusedDocument_raisesItsErrorAndJournalsNothing(string refused, string sqlState, string message)
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(PublishBatch, topic, """[{"doc_key":"a","payload":{"v":1},"doc_version":2}]""".KeyedBy(topic));

        var error = await Sql.FailsAsync(sqlState, PublishBatch, topic, ("""[{"doc_key":"b","payload":{}},""" + refused + "]").KeyedBy(topic));

        Assert.That(error.MessageText, Does.Contain(message).And.Contain(topic + ":a"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(1));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.documents WHERE topic = $1", topic), Is.EqualTo(1));
    }

    [Test]
    public async Task PublishBatch_emptyArrayToAnUnknownTopic_raisesRL001LikeAnyOtherBatch()
    {
        await Sql.FailsAsync("RL001", "SELECT * FROM relay.publish_batch($1, '[]')", TestTopics.Name());
    }

    [Test]
    public async Task PublishBatch_docKeyOfAnotherTopic_raisesRL002()
    {
        var first = await TestTopics.CreateAsync();
        var second = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':shared', '{}')", first);

        var error = await Sql.FailsAsync("RL002", PublishBatch, second, $$$"""[{"doc_key":"{{{second}}}:own","payload":{}},{"doc_key":"{{{first}}}:shared","payload":{}}]""");

        Assert.That(error.MessageText, Does.Contain($"belongs to topic '{first}'"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", second), Is.EqualTo(0));
    }

    [Test]
    public async Task PublishBatch_keyInsertedMeanwhileByAnotherTopic_raisesRL002()
    {
        var first = await TestTopics.CreateAsync();
        var second = await TestTopics.CreateAsync();
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var publish = new Npgsql.NpgsqlCommand("SELECT relay.publish($1, $1 || ':raced', '{}')", connection, transaction))
        {
            publish.Parameters.AddWithValue(first);
            await publish.ExecuteNonQueryAsync();
        }

        var batch = Sql.FailsAsync("RL002", PublishBatch, second, $$$"""[{"doc_key":"{{{second}}}:own","payload":{}},{"doc_key":"{{{first}}}:raced","payload":{}}]""");
        while (await Sql.ScalarAsync<long>(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%publish_batch%'") == 0)
        {
            Assert.That(batch.IsCompleted, Is.False, "the batch did not wait for the uncommitted document");
            await Task.Delay(10);
        }
        await transaction.CommitAsync();

        var error = await batch;
        Assert.That(error.MessageText, Does.Contain($"belongs to topic '{first}'"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", second), Is.EqualTo(0));
    }

    [Test]
    public async Task PublishBatch_missingOrgOnTopicRequiringOne_namesTheDocument()
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true);

        var error = await Sql.FailsAsync("RL002", PublishBatch, topic,
            """[{"doc_key":"a","payload":{},"org_id":"org-a"},{"doc_key":"b","payload":{}}]""".KeyedBy(topic));

        Assert.That(error.MessageText, Does.Contain("p_docs[1]"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(0));
    }

    [Test]
    public async Task PublishBatch_journalsWhatItReturns_inWatermarkOrder()
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true);
        await Sql.RowsAsync(PublishBatch, topic,
            """[{"doc_key":"old","payload":{"v":1},"org_id":"o"},{"doc_key":"gone","payload":{"v":1},"org_id":"o"}]""".KeyedBy(topic));
        await Sql.RowsAsync("SELECT relay.delete($1, $1 || ':gone')", topic);

        var rows = await Sql.RowsAsync(PublishBatch, topic, """
            [{"doc_key":"new","payload":{"v":"n"},"org_id":"o"},
             {"doc_key":"old","payload":{"v":2},"org_id":"o"},
             {"doc_key":"set","payload":{"v":"s"},"org_id":"o","doc_version":7},
             {"doc_key":"gone","payload":{"v":3},"org_id":"o"}]
            """.KeyedBy(topic));

        Assert.That(rows, Is.EqualTo(new[]
        {
            new object?[] { topic + ":new", 4L, 1L },
            new object?[] { topic + ":old", 5L, 2L },
            new object?[] { topic + ":set", 6L, 7L },
            new object?[] { topic + ":gone", 7L, 3L },
        }));
        var journal = await Sql.RowsAsync(
            "SELECT doc_key, watermark, doc_version, org_id, payload::text FROM relay.stream_events WHERE topic = $1 AND watermark > 3 ORDER BY ctid", topic);
        Assert.That(journal, Is.EqualTo(new[]
        {
            new object?[] { topic + ":new", 4L, 1L, "o", """{"v": "n"}""" },
            new object?[] { topic + ":old", 5L, 2L, "o", """{"v": 2}""" },
            new object?[] { topic + ":set", 6L, 7L, "o", """{"v": "s"}""" },
            new object?[] { topic + ":gone", 7L, 3L, "o", """{"v": 3}""" },
        }));
        var documents = await Sql.RowsAsync(
            "SELECT doc_key, doc_version, deleted, watermark, payload::text FROM relay.documents WHERE topic = $1 ORDER BY watermark", topic);
        Assert.That(documents, Is.EqualTo(new[]
        {
            new object?[] { topic + ":new", 1L, false, 4L, """{"v": "n"}""" },
            new object?[] { topic + ":old", 2L, false, 5L, """{"v": 2}""" },
            new object?[] { topic + ":set", 7L, false, 6L, """{"v": "s"}""" },
            new object?[] { topic + ":gone", 3L, false, 7L, """{"v": 3}""" },
        }));
    }

    [Test]
    public async Task PublishBatch_sameDocumentTwiceAtOneVersion_secondIsNoOp()
    {
        var topic = await TestTopics.CreateAsync();

        var rows = await Sql.RowsAsync(PublishBatch, topic,
            """[{"doc_key":"a","payload":{"v":1},"doc_version":3},{"doc_key":"b","payload":{}},{"doc_key":"a","payload":{"v":1},"doc_version":3}]""".KeyedBy(topic));

        Assert.That(rows, Is.EqualTo(new[]
        {
            new object?[] { topic + ":a", 1L, 3L },
            new object?[] { topic + ":b", 2L, 1L },
            new object?[] { topic + ":a", null, 3L },
        }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(2));
    }

    [Test]
    public async Task PublishBatch_pointerTopic_journalsNoPayload()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");

        await Sql.RowsAsync(PublishBatch, topic, """[{"doc_key":"a","payload":{"v":1}},{"doc_key":"b","payload":{"v":2}}]""".KeyedBy(topic));

        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1 AND payload IS NULL", topic), Is.EqualTo(2));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.documents WHERE topic = $1 AND payload IS NOT NULL", topic), Is.EqualTo(2));
    }

    [TestCase("""{"doc_key":"a","payload":{},"org":"org-1"}""", "p_docs[1] has member 'org', which is not one of doc_key, payload, org_id, doc_version")]
    [TestCase("""{"doc_key":"a","payload":{},"docVersion":3}""", "p_docs[1] has member 'docVersion', which is not one of doc_key, payload, org_id, doc_version")]
    [TestCase("""{"doc_key":"a","org_id":"org-1"}""", "p_docs[1] has no payload")]
    [TestCase("""{"doc_key":"a","payload":null}""", "p_docs[1].payload must not be null")]
    public async Task PublishBatch_memberItDoesNotKnowOrNoPayload_raisesRL002NamingTheDocument(string document, string message)
    {
        // Before, a misspelt "org" was dropped and its document published to every organisation of a topic that allows that.
        var topic = TestTopics.Name();
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'inline', '7 days', false)", topic);

        var error = await Sql.FailsAsync("RL002", PublishBatch, topic, """[{"doc_key":"b","payload":{}},""" + document + "]");

        Assert.That(error.MessageText, Is.EqualTo(message));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.Zero);
    }
}
