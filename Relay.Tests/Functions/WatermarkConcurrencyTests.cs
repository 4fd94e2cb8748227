using Npgsql;

namespace Relay.Tests.Functions;

public sealed class WatermarkConcurrencyTests
{
    private const int Writers = 8;
    private const int PublishesPerWriter = 2000;

    [Test]
    public async Task Publish_eightConcurrentWriters_watermarksAreExactlyOneToN_andCommitOrderIsWatermarkOrder()
    {
        var topic = await TestTopics.CreateAsync();
        const long total = Writers * PublishesPerWriter;
        var writers = Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
            await using var publish = new NpgsqlCommand("SELECT watermark FROM relay.publish($1, $2, $3::jsonb)", connection);
            publish.Parameters.Add(new NpgsqlParameter { Value = topic });
            publish.Parameters.Add(new NpgsqlParameter { Value = "" });
            publish.Parameters.Add(new NpgsqlParameter { Value = "" });
            var watermarks = new List<long>(PublishesPerWriter);
            for (var i = 0; i < PublishesPerWriter; i++)
            {
                publish.Parameters[1].Value = $"{topic}:w{writer}-d{i % 50}";
                publish.Parameters[2].Value = $$"""{"writer":{{writer}},"i":{{i}}}""";
                watermarks.Add((long)(await publish.ExecuteScalarAsync())!);
            }
            return watermarks;
        })).ToArray();

        var seen = await ReadUntilAsync(topic, total);
        var allocated = (await Task.WhenAll(writers)).SelectMany(w => w).Order().ToList();

        var expected = Enumerable.Range(1, (int)total).Select(w => (long)w).ToList();
        Assert.That(allocated, Is.EqualTo(expected));
        Assert.That(seen, Is.EqualTo(expected));
    }

    /// <summary>
    /// Polls <c>watermark &gt; cursor</c> as a naive tailer would. If commit order differed from watermark order, some
    /// poll would see a watermark whose predecessor is still invisible: the batch would not continue the cursor.
    /// </summary>
    private static async Task<List<long>> ReadUntilAsync(string topic, long total)
    {
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        await using var poll = new NpgsqlCommand(
            "SELECT watermark FROM relay.stream_events WHERE topic = $1 AND watermark > $2 ORDER BY watermark", connection);
        poll.Parameters.Add(new NpgsqlParameter { Value = topic });
        poll.Parameters.Add(new NpgsqlParameter { Value = 0L });
        var seen = new List<long>();
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (seen.Count < total && DateTime.UtcNow < deadline)
        {
            var cursor = seen.Count == 0 ? 0 : seen[^1];
            poll.Parameters[1].Value = cursor;
            await using var reader = await poll.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var watermark = reader.GetInt64(0);
                Assert.That(watermark, Is.EqualTo((seen.Count == 0 ? 0 : seen[^1]) + 1),
                    "a poll saw a watermark before its predecessor was visible");
                seen.Add(watermark);
            }
        }
        return seen;
    }
}
