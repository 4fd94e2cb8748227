using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// What the WebSocket scenarios share: connecting many subscribed clients, publishing batches into a
/// <see cref="CommitLog"/>, and waiting for the clients to receive what was published.
/// </summary>
internal static class ClientFleet
{
    /// <summary>
    /// Connects <paramref name="count"/> clients to every topic of <paramref name="log"/> after watermark
    /// <paramref name="after"/> (0: the whole topic is replayed) and waits until each is caught up; the first
    /// <paramref name="recorded"/> record arrivals.
    /// </summary>
    public static async Task<List<BenchClient>> ConnectAsync(ServerProcess server, CommitLog log, int count, int recorded, long after = 0)
    {
        var token = ServerProcess.Token();
        var clients = new ConcurrentBag<BenchClient>();
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var client = await BenchClient.ConnectAsync(server, log.Topics, after, token);
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

    /// <summary>Publishes a batch of <paramref name="size"/> run summaries to topic <paramref name="topic"/> of the log and notes when its commit returned.</summary>
    public static async Task PublishAsync(NpgsqlDataSource dataSource, CommitLog log, int topic, int iteration, int size, CancellationToken cancellationToken)
    {
        var name = log.Topics[topic];
        var docs = string.Join(',', Enumerable.Range(0, size).Select(d =>
            $$"""{"doc_key":"{{name}}:{{(iteration * size + d) % 1000}}","payload":{{Documents.RunSummary(d, iteration)}}}"""));
        await using var command = dataSource.CreateCommand("SELECT watermark FROM relay.publish_batch($1, $2::jsonb)");
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue("[" + docs + "]");
        var watermarks = new List<long>(size);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                watermarks.Add(reader.GetInt64(0));
            }
        }
        log.Add(topic, watermarks, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Calls <paramref name="tick"/> with the tick's number every <paramref name="period"/> for <paramref name="duration"/>
    /// without waiting for earlier ticks to finish (a fixed rate, not a closed loop), then waits for all of them;
    /// returns how many ticks there were.
    /// </summary>
    public static async Task<int> OfferAsync(TimeSpan period, TimeSpan duration, Func<int, Task> tick, CancellationToken cancellationToken)
    {
        using var ticks = new PeriodicTimer(period);
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        var count = 0;
        while (clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken))
        {
            var number = count++;
            inFlight.Add(Task.Run(() => tick(number), cancellationToken));
            inFlight.RemoveAll(task => task.IsCompleted);
        }
        await Task.WhenAll(inFlight);
        return count;
    }

    /// <summary>Waits until every client has received <paramref name="expected"/> updates in all; false if that takes longer than <paramref name="within"/>.</summary>
    public static async Task<bool> WaitReceivedAsync(IReadOnlyCollection<BenchClient> clients, long expected, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clients.Sum(c => Interlocked.Read(ref c.Updates)) < expected * clients.Count)
        {
            if (clock.Elapsed > within)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>
    /// Runs <paramref name="step"/> (given how many ran before) on a schedule of <paramref name="rate"/> a second for
    /// <paramref name="duration"/>; a late step goes straight on to the next (behind, never bursting). Returns how many ran.
    /// </summary>
    public static async Task<long> PaceAsync(int rate, TimeSpan duration, Func<long, Task> step, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var done = 0L;
        while (clock.Elapsed < duration)
        {
            var due = TimeSpan.FromSeconds((double)done / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }
            await step(done);
            done++;
        }
        return done;
    }

    /// <summary>Waits until the clients' update counts stop growing for a second; false if they still grow after <paramref name="within"/>.</summary>
    public static async Task<bool> WaitSettledAsync(IReadOnlyCollection<BenchClient> clients, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var last = -1L;
        while (clock.Elapsed < within)
        {
            var now = clients.Sum(c => Interlocked.Read(ref c.Updates));
            if (now == last)
            {
                return true;
            }
            last = now;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return false;
    }
}
