using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// What the WebSocket scenarios share: connecting many subscribed clients, publishing batches while noting when each
/// watermark's commit returned, and turning what clients received into commit→client latencies.
/// </summary>
internal static class ClientFleet
{
    /// <summary>Connects <paramref name="count"/> clients from watermark 0 and waits until each is caught up; the first <paramref name="recorded"/> record arrivals.</summary>
    public static async Task<List<BenchClient>> ConnectAsync(RelayProcess relay, string topic, int count, int recorded)
    {
        var token = RelayProcess.Token();
        var clients = new ConcurrentBag<BenchClient>();
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var client = await BenchClient.ConnectAsync(relay, topic, after: 0, token);
                client.Start(i < recorded, CancellationToken.None);
                await client.CaughtUp;
                clients.Add(client);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. clients];
    }

    /// <summary>Publishes a batch of <paramref name="size"/> run summaries and notes when each watermark's commit returned.</summary>
    public static async Task PublishAsync(
        NpgsqlDataSource dataSource, string topic, int iteration, int size, ConcurrentDictionary<long, long> committed, CancellationToken cancellationToken)
    {
        var docs = string.Join(',', Enumerable.Range(0, size).Select(d =>
            $$"""{"doc_key":"{{topic}}:{{(iteration * size + d) % 1000}}","payload":{{Documents.RunSummary(d, iteration)}}}"""));
        await using var command = dataSource.CreateCommand("SELECT watermark FROM relay.publish_batch($1, $2::jsonb)");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue("[" + docs + "]");
        var watermarks = new List<long>(size);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                watermarks.Add(reader.GetInt64(0));
            }
        }
        var at = Stopwatch.GetTimestamp();
        foreach (var watermark in watermarks)
        {
            committed[watermark] = at;
        }
    }

    /// <summary>Waits until the clients stop receiving, closes them, and turns their records into latencies.</summary>
    public static async Task<Percentiles> DrainAsync(IReadOnlyCollection<BenchClient> clients, ConcurrentDictionary<long, long> committed)
    {
        long before;
        do
        {
            before = clients.Sum(c => c.Updates);
            await Task.Delay(500);
        }
        while (clients.Sum(c => c.Updates) != before);
        var latencies = new Percentiles();
        foreach (var client in clients)
        {
            foreach (var (watermark, received) in client.Received)
            {
                if (committed.TryGetValue(watermark, out var at))
                {
                    latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, received).TotalMilliseconds));
                }
            }
            await client.DisposeAsync();
        }
        return latencies;
    }
}
