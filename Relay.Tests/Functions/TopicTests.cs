using Npgsql;

namespace Relay.Tests.Functions;

public sealed class TopicTests
{
    [Test]
    public async Task Migration_createsTheDesignsV1Topics()
    {
        var topics = await Sql.RowsAsync(
            "SELECT topic, payload_mode, require_org, max_payload_bytes FROM relay.topics WHERE topic LIKE 'runtime.%' ORDER BY topic");

        Assert.That(topics, Is.EqualTo(new[]
        {
            new object?[] { "runtime.codex_worker_summaries", "inline", true, 1048576 },
            new object?[] { "runtime.notifications", "inline", true, 1048576 },
            new object?[] { "runtime.run_summaries", "inline", true, 1048576 },
        }));
    }

    [Test]
    public async Task CreateTopic_requiringAnOrgOfATopicWithGlobalDocuments_raisesRL002_untilTheyAreGone()
    {
        // Clients of every organisation receive a document without one: the topic may not start to require one.
        var topic = TestTopics.Name();
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'inline', '7 days', false)", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':global', '{}', NULL)", topic);

        await Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'inline', '7 days', true)", topic);
        var setting = await Sql.RowsAsync("SELECT require_org FROM relay.topics WHERE topic = $1", topic);
        Assert.That(setting.Single()[0], Is.False);

        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':global')", topic);
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'inline', '7 days', true)", topic);
    }

    [Test]
    public async Task CreateTopic_twiceOrWithNewSettings_isIdempotentAndKeepsTheHead()
    {
        var topic = TestTopics.Name();
        await Sql.ExecuteAsync("SELECT relay.create_topic($1)", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':doc', '{}', 'org')", topic);

        await Sql.ExecuteAsync("SELECT relay.create_topic($1)", topic);
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'pointer', '1 day', false)", topic);

        var row = await Sql.RowsAsync(
            "SELECT head_watermark, retained_after, payload_mode, retention::text, require_org FROM relay.topics WHERE topic = $1", topic);
        Assert.That(row.Single(), Is.EqualTo(new object?[] { 1L, 0L, "pointer", "1 day", false }));
    }

    [Test]
    public async Task CreateTopic_requiringAnOrgWhileAPublisherHoldsAGlobalDocument_waitsForItAndRaisesRL002()
    {
        // Before, it checked before taking the topic's row, then waited for the publisher and required an org anyway.
        var topic = TestTopics.Name();
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'inline', '7 days', false)", topic);
        await using var publisher = await TestDatabase.DataSource.OpenConnectionAsync();
        await using var transaction = await publisher.BeginTransactionAsync();
        await using (var publish = new NpgsqlCommand("SELECT relay.publish($1, $1 || ':global', '{}', NULL)", publisher, transaction))
        {
            publish.Parameters.AddWithValue(topic);
            await publish.ExecuteNonQueryAsync();
        }

        var requiring = Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'inline', '7 days', true)", topic);
        await Eventually.ThatAsync(async () => await Sql.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%relay.create_topic%'") > 0, "create_topic to wait for the publisher");
        await transaction.CommitAsync();
        await requiring;

        var setting = await Sql.RowsAsync("SELECT require_org FROM relay.topics WHERE topic = $1", topic);
        Assert.That(setting.Single()[0], Is.False);
    }
}
