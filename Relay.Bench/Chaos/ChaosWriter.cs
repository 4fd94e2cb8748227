using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.Chaos;

/// <summary>
/// A writer: publishes, deletes and batch-publishes documents of two organisations across the topics until stopped,
/// and retries through PostgreSQL restarts and crashes (a statement whose commit was lost is simply not in the read
/// model, which is what the clients are compared with).
/// </summary>
internal sealed class ChaosWriter(NpgsqlDataSource dataSource, IReadOnlyList<string> topics, Random random)
{
    /// <summary>Documents per topic and organisation: small, so that updates, deletes and re-creations hit the same keys.</summary>
    private const int KeysPerOrg = 30;

    public static readonly string[] Orgs = ["org-1", "org-2"];

    /// <summary>Statements that failed (the database was down) and were retried.</summary>
    public int Failures { get; private set; }

    /// <summary>The longest a statement took, failed or not.</summary>
    public TimeSpan Slowest { get; private set; }

    public Task RunAsync(CancellationToken cancellationToken) => Task.Run(async () =>
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await WriteOnceAsync();
                await Task.Delay(random.Next(5, 25), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException)
            {
                Failures++;
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }, CancellationToken.None);

    private async Task WriteOnceAsync()
    {
        var topic = topics[random.Next(topics.Count)];
        var org = Orgs[random.Next(Orgs.Length)];
        var roll = random.Next(100);
        await using var command = roll switch
        {
            < 12 => Command("SELECT relay.delete($1, $2)", topic, Key(topic, org)),
            < 22 => Command("SELECT count(*) FROM relay.publish_batch($1, $2::jsonb)", topic, Batch(topic, org)),
            _ => Command("SELECT relay.publish($1, $2, $3::jsonb, $4)", topic, Key(topic, org), Payload(), org),
        };
        var started = Stopwatch.StartNew();
        try
        {
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            if (started.Elapsed > Slowest)
            {
                Slowest = started.Elapsed;
                if (Slowest > TimeSpan.FromSeconds(5))
                {
                    Console.WriteLine($"slow write: {command.CommandText} took {Slowest.TotalSeconds:0.0} s");
                }
            }
        }
    }

    private NpgsqlCommand Command(string sql, params object[] values)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.AddWithValue(value);
        }
        return command;
    }

    private string Key(string topic, string org) => $"{topic}:{org}:k{random.Next(KeysPerOrg)}";

    private string Payload() => $$"""{"n":{{random.Next()}},"status":"{{(random.Next(2) == 0 ? "running" : "done")}}"}""";

    /// <summary>Up to five distinct documents of one organisation, as a <c>publish_batch</c> argument.</summary>
    private string Batch(string topic, string org)
    {
        var first = random.Next(KeysPerOrg);
        var docs = Enumerable.Range(0, random.Next(2, 6)).Select(i =>
            $$"""{"doc_key":"{{topic}}:{{org}}:k{{(first + i) % KeysPerOrg}}","payload":{{Payload()}},"org_id":"{{org}}"}""");
        return "[" + string.Join(',', docs) + "]";
    }
}
