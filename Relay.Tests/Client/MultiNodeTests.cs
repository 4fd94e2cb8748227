using System.Collections.Concurrent;
using Relay.Client;
using Relay.Host.Development;
using Relay.Tests.Cli;

namespace Relay.Tests.Client;

/// <summary>
/// Several relay nodes (real <c>relay serve</c> processes) on one database, clients spread across them: one node is
/// killed with SIGKILL and the others are rolled with SIGTERM while writers publish; each client of a node going down
/// resumes on another node from its stored watermarks, and in the end every cache equals the read model with each
/// topic's watermarks only growing on every connection.
/// </summary>
public class MultiNodeTests
{
    private const int NodeCount = 3;
    private const int ClientCount = 6;

    [Test]
    public async Task Nodes_oneKilledOthersRolled_clientsResumeOnAnotherNodeWithNothingLost()
    {
        string[] topics = [await TestTopics.CreateAsync(), await TestTopics.CreateAsync(payloadMode: "pointer")];
        var ports = Enumerable.Range(0, NodeCount).Select(_ => FreePort.Next()).ToArray();
        var nodes = new RelayProcess?[NodeCount];
        var clients = new RelayClient?[ClientCount];
        var at = new int[ClientCount];
        var caches = Enumerable.Range(0, ClientCount).Select(_ => new DocumentCache()).ToArray();
        var stores = Enumerable.Range(0, ClientCount).Select(_ => new InMemoryWatermarkStore()).ToArray();
        var observations = new ConcurrentQueue<(string Connection, WatermarkObservation Observation)>();
        var instances = 0;

        async Task MoveAsync(int client, int node)
        {
            if (clients[client] is { } old)
            {
                await old.DisposeAsync();
            }
            var instance = Interlocked.Increment(ref instances);
            var fresh = new RelayClient(new RelayClientOptions
            {
                Url = new Uri($"http://127.0.0.1:{ports[node]}"),
                TokenProvider = _ => ValueTask.FromResult(RelayServerHarness.Token()),
                Cache = caches[client],
                WatermarkStore = stores[client],
                InitialReconnectDelay = TimeSpan.FromMilliseconds(200),
                MaxReconnectDelay = TimeSpan.FromSeconds(1),
            });
            fresh.WatermarkStored += observation => observations.Enqueue(($"client {client} instance {instance}", observation));
            await fresh.SubscribeAsync(topics);
            fresh.Start();
            clients[client] = fresh;
            at[client] = node;
        }

        // Every client of a node going down moves on to the next node, as a load balancer would send it.
        async Task MoveOffAsync(int node)
        {
            foreach (var client in Enumerable.Range(0, ClientCount).Where(c => at[c] == node))
            {
                await MoveAsync(client, (node + 1) % NodeCount);
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, NodeCount).Select(node => StartNodeAsync(nodes, node, ports[node])));
            for (var client = 0; client < ClientCount; client++)
            {
                await MoveAsync(client, client % NodeCount);
            }
            using var stopWriting = new CancellationTokenSource();
            var writers = Task.WhenAll(Enumerable.Range(0, 3).Select(writer => WriteAsync(topics, writer, stopWriting.Token)));
            await Eventually.ThatAsync(async () => await Sql.ScalarAsync<long>("SELECT relay.head($1)", topics[0]) >= 50, "the first writes");

            await nodes[0]!.DisposeAsync();
            await MoveOffAsync(0);
            await StartNodeAsync(nodes, 0, ports[0]);
            for (var node = 1; node < NodeCount; node++)
            {
                nodes[node]!.Terminate();
                Assert.That(await nodes[node]!.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, $"node {node} exits cleanly on SIGTERM");
                await nodes[node]!.DisposeAsync();
                await MoveOffAsync(node);
                await StartNodeAsync(nodes, node, ports[node]);
            }
            await stopWriting.CancelAsync();
            await writers;

            foreach (var client in clients.OfType<RelayClient>())
            {
                await client.CaughtUpAsync(topics);
                await client.AssertMatchesReadModelAsync(topics);
            }
            var shrinking = observations
                .GroupBy(o => (o.Connection, o.Observation.Connection, o.Observation.Topic))
                .SelectMany(stream => stream.Zip(stream.Skip(1)).Where(pair => pair.Second.Observation.HasUpdates
                    ? pair.Second.Observation.Watermark <= pair.First.Observation.Watermark
                    : pair.Second.Observation.Watermark < pair.First.Observation.Watermark)
                    .Select(pair => $"{stream.Key}: {pair.First.Observation.Watermark} then {pair.Second.Observation.Watermark}"))
                .ToList();
            Assert.That(shrinking, Is.Empty);
            Assert.That(observations.Select(o => o.Connection).Distinct().Count(), Is.GreaterThan(ClientCount), "clients moved between nodes");
        }
        finally
        {
            foreach (var client in clients)
            {
                await (client?.DisposeAsync() ?? ValueTask.CompletedTask);
            }
            foreach (var node in nodes)
            {
                await (node?.DisposeAsync() ?? ValueTask.CompletedTask);
            }
        }
    }

    /// <summary>Publishes to the topics in turn, 20 documents per writer updated over and over, until cancelled.</summary>
    private static Task WriteAsync(string[] topics, int writer, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var topic = topics[i % topics.Length];
            await Sql.ExecuteAsync("SELECT relay.publish($1, $2, $3::jsonb)", topic, $"{topic}:w{writer}-{i % 20}", $$"""{"writer":{{writer}},"i":{{i}}}""");
            await Task.Delay(5, CancellationToken.None);
        }
    }, CancellationToken.None);

    /// <summary>Starts node <paramref name="index"/> into <paramref name="nodes"/> (so that it is stopped whatever happens) and waits until it is ready.</summary>
    private static async Task StartNodeAsync(RelayProcess?[] nodes, int index, int port)
    {
        var node = nodes[index] = RelayProcess.Serve(port);
        await node.WaitReadyAsync(port);
    }
}
