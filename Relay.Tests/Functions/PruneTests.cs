using Npgsql;

namespace Relay.Tests.Functions;

public sealed class PruneTests
{
    private static async Task<string> TopicWithEventsAsync(int old, int recent)
    {
        var topic = await TestTopics.CreateAsync(retention: "1 day");
        if (old > 0)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':d' || i, 'payload', '{}'::jsonb)) FROM generate_series(1, $2) i))",
                topic, old);
            await Sql.ExecuteAsync("UPDATE relay.stream_events SET inserted_at = now() - interval '2 days' WHERE topic = $1", topic);
        }
        if (recent > 0)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':r' || i, 'payload', '{}'::jsonb)) FROM generate_series(1, $2) i))",
                topic, recent);
        }
        return topic;
    }

    [Test]
    public async Task Prune_deletesOnlyWhatIsOlderThanRetention_andAdvancesRetainedAfter()
    {
        var topic = await TopicWithEventsAsync(old: 30, recent: 5);

        var result = (await Sql.RowsAsync("SELECT topic, deleted, retained_after FROM relay.prune($1)", topic)).Single();

        Assert.That(result, Is.EqualTo(new object?[] { topic, 30L, 30L }));
        Assert.That(await Sql.RowsAsync("SELECT watermark FROM relay.stream_events WHERE topic = $1 ORDER BY watermark", topic),
            Is.EqualTo(Enumerable.Range(31, 5).Select(w => new object?[] { (long)w })));
        Assert.That(await Sql.ScalarAsync<long>("SELECT retained_after FROM relay.topics WHERE topic = $1", topic), Is.EqualTo(30));
    }

    [Test]
    public async Task Prune_twice_secondRunDeletesNothing()
    {
        var topic = await TopicWithEventsAsync(old: 10, recent: 2);
        await Sql.RowsAsync("SELECT * FROM relay.prune($1)", topic);

        var again = (await Sql.RowsAsync("SELECT topic, deleted, retained_after FROM relay.prune($1)", topic)).Single();

        Assert.That(again, Is.EqualTo(new object?[] { topic, 0L, 10L }));
    }

    [Test]
    public async Task Prune_olderThanArgument_overridesRetention()
    {
        var topic = await TopicWithEventsAsync(old: 0, recent: 4);

        var result = (await Sql.RowsAsync("SELECT deleted, retained_after FROM relay.prune($1, '0 seconds')", topic)).Single();

        Assert.That(result, Is.EqualTo(new object?[] { 4L, 4L }));
    }

    [Test]
    public async Task Prune_eventOfATransactionThatRanLongBeforePublishing_isAsOldAsItsInsertNotItsStart()
    {
        // inserted_at was the transaction's start: an event committed a moment ago by a transaction that had been open
        // for longer than p_older_than was pruned at once, and every event below it with it.
        var topic = await TestTopics.CreateAsync(retention: "1 day");
        await using (var connection = await TestDatabase.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var sleep = new NpgsqlCommand("SELECT pg_sleep(1.5)", connection, transaction))
            {
                await sleep.ExecuteNonQueryAsync();
            }
            await using (var publish = new NpgsqlCommand("SELECT relay.publish($1, $1 || ':late', '{}')", connection, transaction))
            {
                publish.Parameters.AddWithValue(topic);
                await publish.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
        }

        var result = (await Sql.RowsAsync("SELECT deleted, retained_after FROM relay.prune($1, '1 second')", topic)).Single();

        Assert.That(result, Is.EqualTo(new object?[] { 0L, 0L }));
    }

    [Test]
    public async Task Prune_boundedPerCall_deletesInBatchesUpToTheCap()
    {
        var topic = await TopicWithEventsAsync(old: 25, recent: 0);
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        await using (var settings = new NpgsqlCommand("SET relay.prune_batch_size = 4; SET relay.prune_max_per_call = 10", connection))
        {
            await settings.ExecuteNonQueryAsync();
        }

        var deletedPerCall = new List<long>();
        for (var call = 0; call < 4; call++)
        {
            await using var prune = new NpgsqlCommand("SELECT deleted FROM relay.prune($1)", connection);
            prune.Parameters.AddWithValue(topic);
            deletedPerCall.Add((long)(await prune.ExecuteScalarAsync())!);
        }

        Assert.That(deletedPerCall, Is.EqualTo(new long[] { 10, 10, 5, 0 }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT retained_after FROM relay.topics WHERE topic = $1", topic), Is.EqualTo(25));
    }

    [Test]
    public async Task Prune_concurrentWithPublishers_losesNoRecentEventAndBlocksNobodyForLong()
    {
        var topic = await TopicWithEventsAsync(old: 2000, recent: 0);
        using var stop = new CancellationTokenSource();
        var publishers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var published = 0;
            while (!stop.IsCancellationRequested || published < 50)
            {
                await Sql.ExecuteAsync("SELECT relay.publish($1, $2, '{}')", topic, $"{topic}:w{writer}-{published++}");
            }
            return published;
        })).ToArray();

        await using (var connection = await TestDatabase.DataSource.OpenConnectionAsync())
        await using (var settings = new NpgsqlCommand("SET relay.prune_batch_size = 100; SET relay.prune_max_per_call = 300", connection))
        {
            await settings.ExecuteNonQueryAsync();
            long deleted;
            do
            {
                await using var prune = new NpgsqlCommand("SELECT deleted FROM relay.prune($1)", connection);
                prune.Parameters.AddWithValue(topic);
                deleted = (long)(await prune.ExecuteScalarAsync())!;
            }
            while (deleted > 0);
        }
        await stop.CancelAsync();
        var total = (await Task.WhenAll(publishers)).Sum();

        var remaining = await Sql.RowsAsync("SELECT min(watermark), max(watermark), count(*) FROM relay.stream_events WHERE topic = $1", topic);
        Assert.That(remaining.Single(), Is.EqualTo(new object?[] { 2001L, 2000L + total, (long)total }));
        Assert.That(await Sql.ScalarAsync<long>("SELECT retained_after FROM relay.topics WHERE topic = $1", topic), Is.EqualTo(2000));
    }

    [Test]
    public async Task RetentionScript_runsPruneUntilNothingIsLeft()
    {
        var topic = await TopicWithEventsAsync(old: 12, recent: 3);

        await Sql.ExecuteAsync(Relay.Core.Schema.SqlScripts.Read("ops/retention.sql"));

        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1", topic), Is.EqualTo(3));
        Assert.That(await Sql.ScalarAsync<long>("SELECT retained_after FROM relay.topics WHERE topic = $1", topic), Is.EqualTo(12));
    }

    [Test]
    public async Task RetentionScript_pastedBetweenTheDollarsOfItsPgCronExample_staysOneCommand()
    {
        var script = Relay.Core.Schema.SqlScripts.Read("ops/retention.sql");
        var block = script[(script.IndexOf("\nDO ", StringComparison.Ordinal) + 1)..];

        // As in the script's own example: SELECT cron.schedule('relay-retention', '*/15 * * * *', $$ … $$).
        var quoted = await Sql.ScalarAsync<string>($"SELECT $${block}$$");

        Assert.That(quoted, Is.EqualTo(block));
    }

    [TestCase("relay.prune_batch_size", "0")]
    [TestCase("relay.prune_batch_size", "-10")]
    [TestCase("relay.prune_batch_size", "lots")]
    [TestCase("relay.prune_max_per_call", "0")]
    public async Task Prune_settingBelowOneOrNotANumber_raisesRL002NamingIt(string setting, string value)
    {
        // Before, a batch of 0 never advanced: prune looped until a statement timeout, holding its snapshot.
        var topic = await TopicWithEventsAsync(old: 3, recent: 0);
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        await using (var set = new NpgsqlCommand($"SET {setting} = '{value}'", connection))
        {
            await set.ExecuteNonQueryAsync();
        }
        await using (var timeout = new NpgsqlCommand("SET statement_timeout = '10s'", connection))
        {
            await timeout.ExecuteNonQueryAsync();
        }
        await using var prune = new NpgsqlCommand("SELECT deleted FROM relay.prune($1)", connection);
        prune.Parameters.AddWithValue(topic);

        var error = (await Assert.ThrowsAsync<PostgresException>(async () => await prune.ExecuteScalarAsync()))!;

        Assert.That((error.SqlState, error.MessageText), Is.EqualTo(("RL002", $"{setting} must be a whole number of at least 1, got '{value}'")));
    }
}
