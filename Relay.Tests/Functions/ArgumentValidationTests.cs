namespace Relay.Tests.Functions;

/// <summary>Every invalid argument of the contract's functions raises RL002, one test per argument.</summary>
public sealed class ArgumentValidationTests
{
    private const string Publish = "SELECT * FROM relay.publish($1, $2, $3::jsonb, $4, $5)";

    [TestCase(null, TestName = "Publish_nullTopic_raisesRL002")]
    [TestCase("", TestName = "Publish_emptyTopic_raisesRL002")]
    [TestCase("Runtime.Upper", TestName = "Publish_upperCaseTopic_raisesRL002")]
    [TestCase("runtime..double_dot", TestName = "Publish_emptySegmentTopic_raisesRL002")]
    [TestCase("1runtime", TestName = "Publish_topicStartingWithDigit_raisesRL002")]
    [TestCase("runtime.", TestName = "Publish_topicEndingWithDot_raisesRL002")]
    [TestCase("runtime-summaries", TestName = "Publish_topicWithDash_raisesRL002")]
    public Task Publish_badTopicName_raisesRL002(string? topic) =>
        Sql.FailsAsync("RL002", Publish, topic, topic + ":doc", "{}", null, null);

    [Test]
    public Task Publish_topicOver128Characters_raisesRL002() =>
        Sql.FailsAsync("RL002", Publish, "a" + new string('b', 128), "doc", "{}", null, null);

    [Test]
    public async Task Publish_nullDocKey_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), null, "{}", null, null);

    [Test]
    public async Task Publish_emptyDocKey_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), "", "{}", null, null);

    [Test]
    public async Task Publish_docKeyOver512Bytes_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync();
        // 171 three-byte characters: 513 bytes, though only 171 characters.
        await Sql.FailsAsync("RL002", Publish, topic, new string('€', 171), "{}", null, null);
        Assert.That((await Sql.RowsAsync(Publish, topic, new string('€', 170), "{}", null, null)).Single()[0], Is.EqualTo(1L));
    }

    [Test]
    public async Task Publish_nullPayload_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), "doc", null, null, null);

    [Test]
    public async Task Publish_jsonNullPayload_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), "doc", "null", null, null);

    [Test]
    public async Task Publish_emptyOrgId_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), "doc", "{}", "", null);

    [Test]
    public async Task Publish_nonPositiveVersion_raisesRL002() =>
        await Sql.FailsAsync("RL002", Publish, await TestTopics.CreateAsync(), "doc", "{}", null, 0L);

    [Test]
    public async Task Publish_versionAbove2To62_raisesRL002_andTheLargestAllowedCanStillBeDeleted()
    {
        // Before, bigint's largest version was taken, and the document's deletion (version + 1) failed with a raw 22003.
        var topic = await TestTopics.CreateAsync();
        var error = await Sql.FailsAsync("RL002", Publish, topic, "doc", "{}", "org-1", long.MaxValue);
        Assert.That(error.MessageText, Is.EqualTo($"doc_version must be at most 4611686018427387904 (2^62), got {long.MaxValue}"));

        await Sql.ExecuteAsync(Publish, topic, "doc", "{}", "org-1", 1L << 62);
        await Sql.ExecuteAsync("SELECT relay.delete($1, 'doc')", topic);
    }

    [Test]
    public async Task ResetEpoch_badTopicName_raisesRL002LikeEveryOtherFunction() =>
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.reset_epoch('Bad Name')");

    [Test]
    public async Task PublishBatch_notAnArray_raisesRL002() =>
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish_batch($1, $2::jsonb)", await TestTopics.CreateAsync(), """{"doc_key":"a"}""");

    [Test]
    public async Task PublishBatch_elementWithoutDocKey_raisesRL002() =>
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish_batch($1, $2::jsonb)", await TestTopics.CreateAsync(), """[{"payload":{}}]""");

    [TestCase("1.5")]
    [TestCase("1e30")]
    [TestCase("-9223372036854775809")]
    public async Task PublishBatch_versionNotABigint_raisesRL002(string version) =>
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish_batch($1, $2::jsonb)", await TestTopics.CreateAsync(),
            $$"""[{"doc_key":"a","payload":{},"doc_version":{{version}}}]""");

    [Test]
    public async Task PublishBatch_elementWithoutPayload_raisesRL002() =>
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish_batch($1, $2::jsonb)", await TestTopics.CreateAsync(), """[{"doc_key":"a"}]""");

    [Test]
    public Task CreateTopic_badPayloadMode_raisesRL002() =>
        Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'sideways')", TestTopics.Name());

    [Test]
    public Task CreateTopic_nonPositiveRetention_raisesRL002() =>
        Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'inline', '0 seconds')", TestTopics.Name());

    [Test]
    public Task CreateTopic_badName_raisesRL002() =>
        Sql.FailsAsync("RL002", "SELECT relay.create_topic('Not A Topic')");

    [Test]
    public Task Head_unknownTopic_raisesRL001() =>
        Sql.FailsAsync("RL001", "SELECT relay.head($1)", TestTopics.Name());

    [Test]
    public Task Delete_unknownTopic_raisesRL001() =>
        Sql.FailsAsync("RL001", "SELECT * FROM relay.delete($1, $1 || ':doc')", TestTopics.Name());

    [Test]
    public Task Prune_unknownTopic_raisesRL001() =>
        Sql.FailsAsync("RL001", "SELECT * FROM relay.prune($1)", TestTopics.Name());

    [Test]
    public Task Prune_negativeAge_raisesRL002() =>
        Sql.FailsAsync("RL002", "SELECT * FROM relay.prune(NULL, '-1 day')");
}
