using System.Diagnostics;
using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e publish</c>: 8 concurrent clients for a fixed time each on: a plain single-row INSERT into a table shaped like
/// the journal (the baseline); <c>relay.publish</c> to one topic; <c>relay.publish</c> spread over 8 topics;
/// <c>relay.publish_batch</c> of 100 documents to one topic and spread over 8; an upsert into an attached table (the
/// <c>relay.attach</c> trigger), one table per client. Reports transactions/s, documents/s and the ratio to the baseline.
/// </summary>
internal static class PublishScenario
{
    private const int Clients = 8;
    private const int DocumentsPerClient = 1000;
    private static readonly byte[] s_hash = new byte[32];

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await PrepareAsync(dataSource, cancellationToken);
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);

        var rows = new List<ScenarioRow>();
        var baseline = await MeasureAsync(dataSource, postmaster, "plain INSERT (baseline)", duration, 1, (c, i, n) => PlainInsert(c, i, n), cancellationToken);
        rows.Add(baseline.ToRow(baseline));
        var workloads = new (string Name, int DocsPerTx, Func<int, int, int, NpgsqlBatchCommand> Command)[]
        {
            ("publish, 1 topic", 1, (c, i, n) => Publish("bench.one", c, i, n)),
            ("publish, 8 topics", 1, (c, i, n) => Publish($"bench.t{c}", c, i, n)),
            ("publish_batch of 100, 1 topic", 100, (c, i, n) => PublishBatch("bench.batch", c, i, n)),
            ("publish_batch of 100, 8 topics", 100, (c, i, n) => PublishBatch($"bench.b{c}", c, i, n)),
            ("attach trigger, 8 tables", 1, AttachedUpsert),
        };
        foreach (var (name, docsPerTx, command) in workloads)
        {
            var result = await MeasureAsync(dataSource, postmaster, name, duration, docsPerTx, command, cancellationToken);
            rows.Add(result.ToRow(baseline));
        }
        return rows;
    }

    private static async Task PrepareAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var topics = new[] { "bench.one", "bench.batch" }
            .Concat(Enumerable.Range(0, Clients).SelectMany(c => new[] { $"bench.t{c}", $"bench.b{c}" }));
        var sql = "CREATE TABLE IF NOT EXISTS bench_plain_events (LIKE relay.stream_events INCLUDING ALL);" +
                  string.Concat(topics.Select(t => $"SELECT relay.create_topic('{t}', 'inline', '7 days', false);")) +
                  // One attached read model per client, as an application that owns its tables would have.
                  string.Concat(Enumerable.Range(0, Clients).Select(c =>
                      $"SELECT relay.create_topic('bench.a{c}', 'pointer', '7 days', false);" +
                      $"CREATE TABLE IF NOT EXISTS bench_attached_{c} (doc_key text PRIMARY KEY, doc_version bigint NOT NULL, payload jsonb NOT NULL);" +
                      $"SELECT relay.attach('bench.a{c}', 'bench_attached_{c}', p_org_column => NULL);"));
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand PlainInsert(int client, int iteration, int _) => new(
        "INSERT INTO bench_plain_events (topic, watermark, doc_key, doc_version, payload, payload_hash) " +
        "VALUES ('bench.plain', $1, $2, $3, $4::jsonb, $5)")
    {
        Parameters =
        {
            new() { Value = (long)client * 1_000_000_000 + iteration },
            new() { Value = $"plain-{client}-{iteration % DocumentsPerClient}" },
            new() { Value = (long)iteration },
            new() { Value = Documents.RunSummary(client, iteration) },
            new() { Value = s_hash },
        },
    };

    private static NpgsqlBatchCommand Publish(string topic, int client, int iteration, int _) => new(
        "SELECT watermark FROM relay.publish($1, $2, $3::jsonb)")
    {
        Parameters =
        {
            new() { Value = topic },
            new() { Value = $"{topic}:{client}-{iteration % DocumentsPerClient}" },
            new() { Value = Documents.RunSummary(client, iteration) },
        },
    };

    private static NpgsqlBatchCommand AttachedUpsert(int client, int iteration, int _) => new(
        $"INSERT INTO bench_attached_{client} AS t (doc_key, doc_version, payload) VALUES ($1, 1, $2::jsonb) " +
        "ON CONFLICT (doc_key) DO UPDATE SET doc_version = t.doc_version + 1, payload = excluded.payload")
    {
        Parameters =
        {
            new() { Value = $"bench.a{client}:{iteration % DocumentsPerClient}" },
            new() { Value = Documents.RunSummary(client, iteration) },
        },
    };

    private static NpgsqlBatchCommand PublishBatch(string topic, int client, int iteration, int size)
    {
        var docs = string.Join(',', Enumerable.Range(0, size).Select(d =>
            $$"""{"doc_key":"{{topic}}:{{client}}-{{(iteration * size + d) % DocumentsPerClient}}","payload":{{Documents.RunSummary(client, iteration)}}}"""));
        return new("SELECT count(*) FROM relay.publish_batch($1, $2::jsonb)")
        {
            Parameters = { new() { Value = topic }, new() { Value = "[" + docs + "]" } },
        };
    }

    private static async Task<Measurement> MeasureAsync(
        NpgsqlDataSource dataSource, int? postmaster, string name, TimeSpan duration, int docsPerTx,
        Func<int, int, int, NpgsqlBatchCommand> command, CancellationToken cancellationToken)
    {
        var cpu = CpuMeter.Start(null, postmaster);
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var transactions = 0;
            while (clock.Elapsed < duration)
            {
                await using var batch = new NpgsqlBatch(connection) { BatchCommands = { command(client, transactions, docsPerTx) } };
                await batch.ExecuteNonQueryAsync(cancellationToken);
                transactions++;
            }
            return transactions;
        }, cancellationToken)));
        var seconds = clock.Elapsed.TotalSeconds;
        var total = counts.Sum();
        Console.WriteLine($"  {name}: {total} transactions in {seconds:F1} s");
        return new Measurement(name, total / seconds, total * docsPerTx / seconds, cpu.Stop());
    }

    private sealed record Measurement(string Name, double TransactionsPerSecond, double DocumentsPerSecond, string Cpu)
    {
        public ScenarioRow ToRow(Measurement baseline) => new(Name,
        [
            ("tx/s", $"{TransactionsPerSecond:F0}"),
            ("docs/s", $"{DocumentsPerSecond:F0}"),
            ("docs/s vs baseline", $"{DocumentsPerSecond / baseline.DocumentsPerSecond:F2}×"),
            ("CPU of the machine", Cpu),
        ]);
    }
}
