namespace Relay.Tests.Functions;

public sealed class DeleteTests
{
    private const string Delete = "SELECT watermark, doc_version FROM relay.delete($1, $2)";

    [Test]
    public async Task Delete_liveDocument_journalsTombstoneAndMarksDeleted()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':doc', '{\"a\":1}', 'org-1')", topic);

        var row = (await Sql.RowsAsync(Delete, topic, topic + ":doc")).Single();

        Assert.That(row, Is.EqualTo(new object?[] { 2L, 2L }));
        var journal = await Sql.RowsAsync(
            "SELECT doc_key, doc_version, org_id, payload, payload_hash, tombstone FROM relay.stream_events WHERE topic = $1 AND watermark = 2", topic);
        Assert.That(journal.Single(), Is.EqualTo(new object?[] { topic + ":doc", 2L, "org-1", null, null, true }));
        var document = await Sql.RowsAsync("SELECT deleted, doc_version, payload FROM relay.documents WHERE doc_key = $1 || ':doc'", topic);
        Assert.That(document.Single(), Is.EqualTo(new object?[] { true, 2L, null }));
    }

    [Test]
    public async Task Delete_alreadyDeleted_isNoOp()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':doc', '{}')", topic);
        await Sql.RowsAsync(Delete, topic, topic + ":doc");

        var row = (await Sql.RowsAsync(Delete, topic, topic + ":doc")).Single();

        Assert.That(row, Is.EqualTo(new object?[] { null, 2L }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(2));
    }

    [Test]
    public async Task Delete_missingDocument_isNoOp()
    {
        var topic = await TestTopics.CreateAsync();

        var row = (await Sql.RowsAsync(Delete, topic, topic + ":never-published")).Single();

        Assert.That(row, Is.EqualTo(new object?[] { null, null }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(0));
    }

    [Test]
    public async Task Publish_afterDelete_revivesDocumentWithNextVersion()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':doc', '{}')", topic);
        await Sql.RowsAsync(Delete, topic, topic + ":doc");

        var row = (await Sql.RowsAsync("SELECT * FROM relay.publish($1, $1 || ':doc', '{\"back\":true}')", topic)).Single();

        Assert.That(row, Is.EqualTo(new object?[] { 3L, 3L }));
        Assert.That(await Sql.ScalarAsync<bool>("SELECT deleted FROM relay.documents WHERE doc_key = $1 || ':doc'", topic), Is.False);
    }

    [Test]
    public async Task Publish_tombstoneVersionAgain_raisesRL004SayingItIsTheDeletion()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.RowsAsync("SELECT relay.publish($1, $1 || ':doc', '{}')", topic);
        await Sql.RowsAsync(Delete, topic, topic + ":doc");

        // The message said "version 2 was published with another payload", which sent the DBA looking for a payload.
        var error = await Sql.FailsAsync("RL004", "SELECT * FROM relay.publish($1, $1 || ':doc', '{}', NULL, 2)", topic);
        Assert.That(error.MessageText, Is.EqualTo($"doc_version conflict for '{topic}:doc': version 2 is its deletion"));
    }
}
