namespace Relay.Tests.Functions;

public sealed class PublishTests
{
    private const string Publish = "SELECT watermark, doc_version FROM relay.publish($1, $2, $3::jsonb, $4, $5)";

    [Test]
    public async Task Publish_newDocument_allocatesFirstWatermarkAndVersionOne()
    {
        var topic = await TestTopics.CreateAsync();

        var row = (await Sql.RowsAsync(Publish, topic, topic + ":doc-1", """{"status":"running"}""", null, null)).Single();

        Assert.That(row, Is.EqualTo(new object?[] { 1L, 1L }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(1));
        var journal = await Sql.RowsAsync(
            "SELECT watermark, doc_key, doc_version, payload::text, payload_hash, tombstone FROM relay.stream_events WHERE topic = $1", topic);
        // No hash on the write path: the relay computes it when it reads the event (docs/sql.md, "Hashing").
        Assert.That(journal.Single(), Is.EqualTo(new object?[] { 1L, topic + ":doc-1", 1L, """{"status": "running"}""", null, false }));
    }

    [Test]
    public async Task Publish_withoutVersion_incrementsCurrentVersion()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"n":1}""", null, 5L);

        var row = (await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"n":2}""", null, null)).Single();

        Assert.That(row, Is.EqualTo(new object?[] { 2L, 6L }));
    }

    [Test]
    public async Task Publish_sameVersionSamePayload_isNoOpWithoutJournalRow()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1,"b":2}""", null, 3L);

        // Same document with its keys in another order: canonically identical.
        var row = (await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"b":2, "a":1}""", null, 3L)).Single();

        Assert.That(row, Is.EqualTo(new object?[] { null, 3L }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1", topic), Is.EqualTo(1));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(1));
    }

    [Test]
    public async Task Publish_noOpBetweenPublishes_leavesNoGap()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", null, 1L);
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", null, 1L);

        var row = (await Sql.RowsAsync(Publish, topic, topic + ":other", """{"a":1}""", null, null)).Single();

        Assert.That(row[0], Is.EqualTo(2L));
    }

    [Test]
    public async Task Publish_lowerVersion_raisesRL003()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", null, 5L);

        await Sql.FailsAsync("RL003", Publish, topic, topic + ":doc", """{"a":1}""", null, 4L);
    }

    [Test]
    public async Task Publish_sameVersionOtherPayload_raisesRL004()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", null, 5L);

        await Sql.FailsAsync("RL004", Publish, topic, topic + ":doc", """{"a":2}""", null, 5L);
    }

    [Test]
    public Task Publish_unknownTopic_raisesRL001() =>
        Sql.FailsAsync("RL001", Publish, TestTopics.Name(), "doc", """{"a":1}""", null, null);

    [Test]
    public async Task Publish_payloadOverTopicLimit_raisesRL005()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("UPDATE relay.topics SET max_payload_bytes = 100 WHERE topic = $1", topic);

        await Sql.FailsAsync("RL005", Publish, topic, topic + ":doc", $$"""{"text":"{{new string('x', 100)}}"}""", null, null);
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(0));
    }

    [Test]
    public async Task Publish_defaultLimit_acceptsOneMebibyteAndRejectsMore()
    {
        var topic = await TestTopics.CreateAsync();
        var fits = new string('x', 1024 * 1024 - 10);
        var tooLarge = new string('x', 1024 * 1024);

        await Sql.RowsAsync(Publish, topic, topic + ":fits", $$"""{"t":"{{fits}}"}""", null, null);
        await Sql.FailsAsync("RL005", Publish, topic, topic + ":too-large", $$"""{"t":"{{tooLarge}}"}""", null, null);
    }

    [Test]
    public async Task Publish_missingOrgOnTopicRequiringOne_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true);

        await Sql.FailsAsync("RL002", Publish, topic, topic + ":doc", """{"a":1}""", null, null);
        Assert.That((await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", "org-1", null)).Single()[0], Is.EqualTo(1L));
    }

    [Test]
    public async Task Publish_docKeyOfAnotherTopic_raisesRL002()
    {
        var first = await TestTopics.CreateAsync();
        var second = await TestTopics.CreateAsync();
        await Sql.RowsAsync(Publish, first, first + ":shared-key", """{"a":1}""", null, null);

        await Sql.FailsAsync("RL002", Publish, second, first + ":shared-key", """{"a":1}""", null, null);
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", second), Is.EqualTo(0));
    }

    [Test]
    public async Task Publish_docKeyOfAnotherOrganisation_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync(requireOrg: true);
        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", "org-a", null);

        await Sql.FailsAsync("RL002", Publish, topic, topic + ":doc", """{"a":2}""", "org-b", null);
    }

    [Test]
    public async Task Publish_rolledBack_leavesNoGap()
    {
        var topic = await TestTopics.CreateAsync();
        await using (var connection = await TestDatabase.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT relay.publish($1, $1 || ':doc', '{}')", connection, transaction);
            command.Parameters.AddWithValue(topic);
            await command.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        var row = (await Sql.RowsAsync(Publish, topic, topic + ":doc", "{}", null, null)).Single();

        Assert.That(row[0], Is.EqualTo(1L));
    }

    [Test]
    public async Task Publish_pointerTopic_journalsNoPayloadButKeepsDocument()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");

        await Sql.RowsAsync(Publish, topic, topic + ":doc", """{"a":1}""", null, null);

        Assert.That(await Sql.ScalarAsync<string>("SELECT payload::text FROM relay.stream_events WHERE topic = $1", topic), Is.Null);
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1 AND NOT tombstone", topic), Is.EqualTo(1));
        Assert.That(await Sql.ScalarAsync<string>("SELECT payload::text FROM relay.documents WHERE doc_key = $1 || ':doc'", topic),
            Is.EqualTo("""{"a": 1}"""));
    }
}
