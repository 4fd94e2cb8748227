using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e feed</c>: for each feed, the sustained events/s from commit to topic log (4 writers publishing batches of
/// 500 as fast as they can), and commit→topic-log latency at a fixed 1,000 and 5,000 events/s: the time from a
/// writer's commit returning to a reader of the topic log receiving the event. Writers publish batches every 10 ms
/// over 4 topics. Writers run in this process.
/// </summary>
internal static class FeedScenario
{
    private const int Topics = 4;
    private const int Writers = 4;

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        var rows = new List<ScenarioRow>();
        foreach (var feed in new[] { "replication", "notify" })
        {
            var sustained = await SustainedAsync(dataSource, feed, duration, cancellationToken);
            var atOneK = await LatencyAsync(dataSource, feed, 1000, duration, cancellationToken);
            var atFiveK = await LatencyAsync(dataSource, feed, 5000, duration, cancellationToken);
            rows.Add(new ScenarioRow(feed,
            [
                ("sustained events/s", $"{sustained:F0}"),
                ("p50 @1k/s (ms)", $"{atOneK.At(50):F2}"),
                ("p99 @1k/s (ms)", $"{atOneK.At(99):F2}"),
                ("p50 @5k/s (ms)", $"{atFiveK.At(50):F2}"),
                ("p99 @5k/s (ms)", $"{atFiveK.At(99):F2}"),
            ]));
        }
        return rows;
    }

    private static async Task<string[]> CreateTopicsAsync(NpgsqlDataSource dataSource, string run)
    {
        var topics = Enumerable.Range(0, Topics).Select(i => $"bench.{run}_{i}").ToArray();
        await using var command = dataSource.CreateCommand(string.Concat(topics.Select(t => $"SELECT relay.create_topic('{t}', 'inline', '7 days', false);")));
        await command.ExecuteNonQueryAsync();
        return topics;
    }

    private static async Task<double> SustainedAsync(NpgsqlDataSource dataSource, string feed, TimeSpan duration, CancellationToken cancellationToken)
    {
        var topics = await CreateTopicsAsync(dataSource, $"{feed}_sustained");
        await using var relay = new CoreRelay(dataSource.ConnectionString, feed);
        await relay.WaitStreamingAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                await PublishBatchAsync(dataSource, topics[writer % Topics], writer, i, 500, cancellationToken);
            }
        }, cancellationToken)));
        var heads = await ReadHeadsAsync(dataSource, topics);
        foreach (var (topic, head) in heads)
        {
            while (relay.Logs.Find(topic) is not { } log || log.Head < head)
            {
                await Task.Delay(1, cancellationToken);
            }
        }
        return heads.Values.Sum() / clock.Elapsed.TotalSeconds;
    }

    private static async Task<Percentiles> LatencyAsync(NpgsqlDataSource dataSource, string feed, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var topics = await CreateTopicsAsync(dataSource, $"{feed}_{rate}");
        await using var relay = new CoreRelay(dataSource.ConnectionString, feed);
        await relay.WaitStreamingAsync();
        var committed = new ConcurrentDictionary<(string, long), long>();
        var latencies = new Percentiles();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readers = topics.Select(topic => Task.Run(async () =>
        {
            var subscription = await relay.SubscribeAsync(topic, 0);
            try
            {
                await foreach (var batch in subscription.ReadAsync(stop.Token))
                {
                    var received = Stopwatch.GetTimestamp();
                    foreach (var journalEvent in batch.Events)
                    {
                        // The reader can see an event before its writer hears the commit returned: wait for that.
                        long at;
                        while (!committed.TryGetValue((topic, journalEvent.Watermark), out at))
                        {
                            await Task.Yield();
                        }
                        latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, received).TotalMilliseconds));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The run is over.
            }
        }, cancellationToken)).ToArray();

        var perTick = rate / 100 / Topics;
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        for (var tick = 0; clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken); tick++)
        {
            foreach (var topic in topics)
            {
                var t = tick;
                inFlight.Add(Task.Run(async () =>
                {
                    foreach (var watermark in await PublishBatchAsync(dataSource, topic, 0, t, perTick, cancellationToken))
                    {
                        committed[(topic, watermark)] = Stopwatch.GetTimestamp();
                    }
                }, cancellationToken));
            }
            inFlight.RemoveAll(task => task.IsCompleted);
        }
        await Task.WhenAll(inFlight);
        var heads = await ReadHeadsAsync(dataSource, topics);
        while (latencies.Count < heads.Values.Sum())
        {
            await Task.Delay(10, cancellationToken);
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        return latencies;
    }

    private static async Task<List<long>> PublishBatchAsync(
        NpgsqlDataSource dataSource, string topic, int writer, int iteration, int size, CancellationToken cancellationToken)
    {
        var docs = string.Join(',', Enumerable.Range(0, size).Select(d =>
            $$"""{"doc_key":"{{topic}}:{{writer}}-{{(iteration * size + d) % 1000}}","payload":{{Documents.RunSummary(writer, iteration)}}}"""));
        await using var command = dataSource.CreateCommand("SELECT watermark FROM relay.publish_batch($1, $2::jsonb)");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue("[" + docs + "]");
        var watermarks = new List<long>(size);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            watermarks.Add(reader.GetInt64(0));
        }
        return watermarks;
    }

    private static async Task<Dictionary<string, long>> ReadHeadsAsync(NpgsqlDataSource dataSource, string[] topics)
    {
        await using var command = dataSource.CreateCommand("SELECT topic, head_watermark FROM relay.topics WHERE topic = ANY($1)");
        command.Parameters.AddWithValue(topics);
        await using var reader = await command.ExecuteReaderAsync();
        var heads = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            heads[reader.GetString(0)] = reader.GetInt64(1);
        }
        return heads;
    }
}
