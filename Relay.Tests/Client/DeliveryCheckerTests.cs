using System.Collections.Concurrent;
using Relay.Client;
using Relay.Host.Development;

namespace Relay.Tests.Client;

/// <summary>
/// The delivery checker: writers publish and delete across three topics while clients join at random watermarks, lose
/// their sockets at random moments and the relay restarts; in the end every client's cache equals the read model, and
/// on every connection each topic's watermarks only grow.
/// </summary>
public class DeliveryCheckerTests
{
    private const int Seed = 20261122;
    private const int WriterCount = 8;
    private const int ClientCount = 20;
    private static readonly TimeSpan s_writeFor = TimeSpan.FromSeconds(12);

    [Test]
    public async Task Clients_dropping_and_relay_restarting_end_with_read_model()
    {
        await TestContext.Out.WriteLineAsync($"delivery checker seed: {Seed}");
        var random = new Random(Seed);
        var port = FreePort.Next();
        var relay = await RelayServerHarness.StartAsync(port: port);
        string[] topics = [await TestTopics.CreateAsync(), await TestTopics.CreateAsync(), await TestTopics.CreateAsync(payloadMode: "pointer")];
        var observations = new ConcurrentQueue<(int Client, WatermarkObservation Observation)>();
        var clients = new List<RelayClient>();
        using var stop = new CancellationTokenSource(s_writeFor);
        var writers = Enumerable.Range(0, WriterCount).Select(w => WriteAsync(topics, new Random(Seed + 1 + w), stop.Token)).ToList();
        var droppers = new List<Task>();
        try
        {
            for (var c = 0; c < ClientCount; c++)
            {
                await Task.Delay(random.Next(50, 400));
                var client = await JoinAsync(relay, topics, random.Next(2) == 0 ? null : random);
                var id = c;
                client.WatermarkStored += observation => observations.Enqueue((id, observation));
                await client.SubscribeAsync(topics);
                client.Start();
                clients.Add(client);
                droppers.Add(DropAsync(client, new Random(Seed + 100 + c), stop.Token));
                if (c == ClientCount / 2)
                {
                    await relay.DisposeAsync();
                    relay = await RelayServerHarness.StartAsync(port: port);
                }
            }
            await Task.WhenAll(writers);
            await Task.WhenAll(droppers);

            foreach (var client in clients)
            {
                await client.CaughtUpAsync(topics);
                await client.AssertMatchesReadModelAsync(topics);
            }
            AssertWatermarksGrowPerConnection(observations);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
            await relay.DisposeAsync();
        }
    }

    /// <summary>
    /// A client that starts from 0, or (given <paramref name="random"/>) from a random earlier watermark per topic with the
    /// cache it would hold there, read from the journal.
    /// </summary>
    private static async Task<RelayClient> JoinAsync(RelayServerHarness relay, string[] topics, Random? random)
    {
        var watermarks = new Dictionary<string, long>();
        var cache = new DocumentCache();
        foreach (var topic in random is null ? [] : topics)
        {
            var head = await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic);
            var watermark = random!.NextInt64(0, head + 1);
            watermarks[topic] = watermark;
            var rows = await Sql.RowsAsync(
                """
                SELECT DISTINCT ON (doc_key) doc_key, doc_version, tombstone, relay.payload_hash(payload), payload::text FROM relay.stream_events
                WHERE topic = $1 AND watermark <= $2 ORDER BY doc_key, watermark DESC
                """, topic, watermark);
            foreach (var row in rows)
            {
                var (key, version) = ((string)row[0]!, (long)row[1]!);
                cache.Apply(topic, (bool)row[2]!
                    ? CachedDocument.Tombstone(key, version)
                    : new CachedDocument(key, version, System.Text.Encoding.UTF8.GetBytes((string?)row[4] ?? ""), (byte[])row[3]!, Deleted: false));
            }
        }
        return TestClients.Create(relay, new InMemoryWatermarkStore(watermarks), cache);
    }

    private static Task WriteAsync(string[] topics, Random random, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var topic = topics[random.Next(topics.Length)];
            var key = $"{topic}:k{random.Next(40)}";
            if (random.Next(100) < 15)
            {
                await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, key);
            }
            else
            {
                await Sql.ExecuteAsync("SELECT relay.publish($1, $2, $3::jsonb)", topic, key, $$"""{"n":{{random.Next()}},"big":{{long.MaxValue - random.Next()}}}""");
            }
            await Task.Delay(random.Next(2, 10), CancellationToken.None);
        }
    }, CancellationToken.None);

    private static Task DropAsync(RelayClient client, Random random, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(random.Next(500, 4000), CancellationToken.None);
            client.AbortConnection();
        }
    }, CancellationToken.None);

    private static void AssertWatermarksGrowPerConnection(IEnumerable<(int Client, WatermarkObservation Observation)> observations)
    {
        var problems = new List<string>();
        var checkedBatches = 0;
        foreach (var stream in observations.GroupBy(o => (o.Client, o.Observation.Connection, o.Observation.Topic)))
        {
            long? last = null;
            foreach (var (_, observation) in stream)
            {
                var grows = observation.HasUpdates ? observation.Watermark > last : observation.Watermark >= last;
                if (last is not null && !grows)
                {
                    problems.Add($"client {stream.Key.Client} connection {stream.Key.Connection} {stream.Key.Topic}: {last} then {observation.Watermark}");
                }
                checkedBatches += observation.HasUpdates ? 1 : 0;
                last = observation.Watermark;
            }
        }
        var connections = observations.Select(o => (o.Client, o.Observation.Connection)).Distinct().Count();
        TestContext.Out.WriteLine($"checked {checkedBatches} batches with updates over {connections} connections");
        Assert.That(problems, Is.Empty, string.Join("; ", problems.Take(10)));
        Assert.That(checkedBatches, Is.GreaterThan(ClientCount));
    }
}
