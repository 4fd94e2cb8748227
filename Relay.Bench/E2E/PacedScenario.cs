using System.Diagnostics;
using Npgsql;
using Relay.Bench.Micro;
using Relay.Host.Sync;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e paced</c>: what one event costs the relay. A paced writer commits single-row <c>relay.publish</c>
/// transactions to one topic at a fixed rate while 0 (the feed's own cost), 1, 100 or 1,000 binary-protocol clients
/// are subscribed to it; rows for an inline topic and a pointer topic (every delivery needs the document read back).
/// Reports the rate the writer reached, commit→client latency, and the relay's CPU per published event and per
/// delivered update (a pointer topic delivers fewer updates than were published: an event whose document already went
/// out newer is skipped). The latency baseline, in the same run and under the same load, is a bare pgoutput consumer
/// (<see cref="PostgresBaseline"/>); the feed's baseline, for the rows with no client, is that consumer as a process of its
/// own (<see cref="RawConsumer"/>) following the same writer with no relay running; the per-delivery baseline is the bare Kestrel WebSocket loop of
/// <see cref="RawFanoutServer"/> sent one frame per event to 100 clients (with <c>--load</c>, to that load's clients)
/// at the same rate.
/// </summary>
internal static class PacedScenario
{
    private static readonly (int Clients, int Rate)[] s_loads = [(0, 1000), (1, 1000), (100, 1000), (100, 2000), (1000, 500)];
    private static readonly (int Clients, int Rate)[] s_bareLoads = [(100, 1000)];

    /// <summary>Which rows to run: the inline topic only, and one load instead of the standard ones.</summary>
    public readonly record struct Selection(bool InlineOnly, (int Clients, int Rate)? Load);

    /// <summary>Reads <c>--load CLIENTS@RATE</c> (for example <c>--load 1@1000</c>) from the options, if given.</summary>
    public static (int Clients, int Rate)? ParseLoad(string[] options)
    {
        var at = Array.IndexOf(options, "--load");
        if (at < 0)
        {
            return null;
        }
        var parts = at + 1 < options.Length ? options[at + 1].Split('@') : [];
        return parts is [var clients, var rate] && int.TryParse(clients, out var c) && int.TryParse(rate, out var r) && c >= 0 && r > 0
            ? (c, r)
            : throw new ArgumentException("--load takes CLIENTS@RATE, for example --load 1@1000");
    }

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(TimeSpan duration, bool quick, Selection selection, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);
        var rows = new List<ScenarioRow>();
        foreach (var (clientCount, rate) in selection.Load is { } only ? [only] : quick ? [(10, 200)] : s_bareLoads)
        {
            if (clientCount > 0)
            {
                rows.Add(await BareLoopRowAsync(clientCount, rate, quick, cancellationToken));
            }
        }
        foreach (var (clientCount, rate) in selection.Load is { } alone ? [alone] : quick ? [(0, 200)] : s_loads)
        {
            if (clientCount == 0)
            {
                rows.Add(await BareConsumerRowAsync(dataSource, postmaster, rate, duration, quick, cancellationToken));
            }
        }
        foreach (var mode in selection.InlineOnly ? ["inline"] : new[] { "inline", "pointer" })
        {
            var log = new CommitLog($"bench.paced_{mode}");
            await using (var create = dataSource.CreateCommand($"SELECT relay.create_topic('{log.Topics[0]}', '{mode}', '7 days', false)"))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var relay = await ServerProcess.StartRelayAsync(dataSource.ConnectionString);
            await using var baseline = await PostgresBaseline.StartAsync("replication", dataSource.ConnectionString, log);
            // Tiered compilation recompiles the hot paths in a process's first seconds: a warm-up load, not reported,
            // keeps that out of the first row's CPU figures.
            var published = quick ? 0L : await WarmUpAsync(dataSource, relay, log, cancellationToken);
            foreach (var (clientCount, rate) in selection.Load is { } load ? [load] : quick ? [(0, 200), (1, 200), (10, 200)] : s_loads)
            {
                // At the head: this measures live delivery. From 0, each of 1,000 clients would first replay every
                // earlier row's events, which is e2e storm's and e2e catchup's to measure, and the relay's peak RSS
                // would be that replay's.
                var clients = await ClientFleet.ConnectAsync(relay, log, clientCount, recorded: Math.Min(clientCount, 100), after: published);
                var before = clients.Sum(c => Interlocked.Read(ref c.Updates));
                baseline.TakeLatencies();
                log.Latencies(clients);
                var cpu = CpuMeter.Start(relay, postmaster);
                var clock = Stopwatch.StartNew();
                var events = await PublishAtAsync(dataSource, log, rate, duration, published, cancellationToken);
                var seconds = clock.Elapsed.TotalSeconds;
                published += events;
                // A pointer topic skips an event whose document was already delivered at a newer version (CONTRACT §3),
                // so its clients receive fewer updates than were published: there, wait until deliveries stop instead.
                var complete = mode == "inline"
                    ? await ClientFleet.WaitReceivedAsync(clients, events, TimeSpan.FromSeconds(60))
                    : await ClientFleet.WaitSettledAsync(clients, TimeSpan.FromSeconds(60));
                var shares = cpu.Stop();
                var delivered = clients.Sum(c => Interlocked.Read(ref c.Updates)) - before;
                var (floor, _) = baseline.TakeLatencies();
                var latencies = log.Latencies(clients);
                rows.Add(Row($"{mode}: {clientCount:N0} client{(clientCount == 1 ? "" : "s")} @ {rate:N0}/s{(complete ? "" : " (incomplete)")}",
                    events / seconds, clientCount, events, delivered, latencies, $"{floor.At(99):F2}", cpu.ServerTime, relay, shares));
                await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
            }
        }
        return rows;
    }

    /// <summary>
    /// The per-delivery baseline: the bare Kestrel WebSocket loop of <see cref="RawFanoutServer"/> (no database, no
    /// journal, no budget), sent one single-update frame per event on the same schedule, each POSTed to it; what one
    /// delivery costs ASP.NET Core's WebSocket stack on this machine. Latency runs from the POST to the client.
    /// </summary>
    private static async Task<ScenarioRow> BareLoopRowAsync(int clientCount, int rate, bool quick, CancellationToken cancellationToken)
    {
        var log = new CommitLog("bench.paced_bare");
        await using var raw = await ServerProcess.StartRawAsync();
        using var http = new HttpClient { BaseAddress = raw.Http };
        var clients = await ClientFleet.ConnectAsync(raw, log, clientCount, recorded: Math.Min(clientCount, 100));
        // The same warm-up as the relay's, not reported.
        var sent = quick ? 0L : await BroadcastAtAsync(http, log, 500, TimeSpan.FromSeconds(5), 0, cancellationToken);
        await ClientFleet.WaitReceivedAsync(clients, sent, TimeSpan.FromSeconds(60));
        log.Latencies(clients);
        var cpu = CpuMeter.Start(raw, postmaster: null);
        var clock = Stopwatch.StartNew();
        var events = await BroadcastAtAsync(http, log, rate, quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10), sent, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var complete = await ClientFleet.WaitReceivedAsync(clients, sent + events, TimeSpan.FromSeconds(60));
        var shares = cpu.Stop("server");
        var delivered = clients.Sum(c => Interlocked.Read(ref c.Updates)) - sent * clientCount;
        var latencies = log.Latencies(clients);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        return Row($"bare Kestrel loop (baseline): {clientCount:N0} clients @ {rate:N0}/s{(complete ? "" : " (incomplete)")}",
            events / seconds, clientCount, events, delivered, latencies, "–", cpu.ServerTime, raw, shares);
    }

    /// <summary>
    /// The feed's baseline: the bare pgoutput consumer of <see cref="RawConsumer"/>, a process of its own, following the
    /// same paced writer with no relay running; its CPU per event is what following the journal costs before the relay
    /// does anything with an event.
    /// </summary>
    private static async Task<ScenarioRow> BareConsumerRowAsync(
        NpgsqlDataSource dataSource, int? postmaster, int rate, TimeSpan duration, bool quick, CancellationToken cancellationToken)
    {
        var log = new CommitLog("bench.paced_consumer");
        await using (var create = dataSource.CreateCommand($"SELECT relay.create_topic('{log.Topics[0]}', 'inline', '7 days', false)"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var consumer = await ServerProcess.StartRawConsumerAsync(dataSource.ConnectionString);
        // The same warm-up as the relay's, not reported.
        var published = quick ? 0L : await PublishAtAsync(dataSource, log, 500, TimeSpan.FromSeconds(5), 0, cancellationToken);
        var cpu = CpuMeter.Start(consumer, postmaster);
        var clock = Stopwatch.StartNew();
        var events = await PublishAtAsync(dataSource, log, rate, duration, published, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var shares = cpu.Stop("consumer");
        return Row($"bare pgoutput consumer (baseline): 0 clients @ {rate:N0}/s",
            events / seconds, 0, events, 0, new Percentiles(), "–", cpu.ServerTime, consumer, shares);
    }

    private static ScenarioRow Row(string name, double reached, int clientCount, long events, long delivered, Percentiles latencies,
        string baselineP99, TimeSpan serverTime, ServerProcess server, string shares) => new(name,
    [
        ("writer reached (/s)", $"{reached:F0}"),
        ("delivered per client", clientCount == 0 ? "–" : $"{delivered / clientCount:N0} of {events:N0}"),
        ("p50 (ms)", Milliseconds(latencies, 50)),
        ("p99 (ms)", Milliseconds(latencies, 99)),
        ("baseline p99 (ms)", baselineP99),
        ("relay CPU per event (µs)", $"{serverTime.TotalMicroseconds / Math.Max(1, events):F0}"),
        ("relay CPU per delivery (µs)", delivered == 0 ? "–" : $"{serverTime.TotalMicroseconds / delivered:F1}"),
        ("relay peak RSS (MiB)", $"{server.PeakResidentBytes() / (1024 * 1024)}"),
        ("CPU of the machine", shares),
    ]);

    /// <summary>The bare loop's writer: one single-update frame per event, POSTed on the writer's schedule.</summary>
    private static Task<long> BroadcastAtAsync(HttpClient http, CommitLog log, int rate, TimeSpan duration, long offset, CancellationToken cancellationToken) =>
        ClientFleet.PaceAsync(rate, duration, async sent =>
        {
            var frame = ProtoFraming.Encode(UpdateMapper.ToEnvelope(Batches.RunSummaries(1, log.Topics[0], after: offset + sent)));
            var at = Stopwatch.GetTimestamp();
            using (var response = await http.PostAsync("broadcast", new ByteArrayContent(frame), cancellationToken))
            {
                response.EnsureSuccessStatusCode();
            }
            log.Add(0, [offset + sent + 1], at);
        }, cancellationToken);

    private static string Milliseconds(Percentiles latencies, double percentile) =>
        latencies.Count == 0 ? "–" : $"{latencies.At(percentile):F2}";

    private static async Task<long> WarmUpAsync(NpgsqlDataSource dataSource, ServerProcess relay, CommitLog log, CancellationToken cancellationToken)
    {
        var clients = await ClientFleet.ConnectAsync(relay, log, 10, recorded: 10);
        var events = await PublishAtAsync(dataSource, log, 500, TimeSpan.FromSeconds(5), 0, cancellationToken);
        await ClientFleet.WaitSettledAsync(clients, TimeSpan.FromSeconds(60));
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        return events;
    }

    /// <summary>
    /// One writer on one connection commits single-row publishes, each its own transaction, on a schedule of
    /// <paramref name="rate"/> a second for <paramref name="duration"/>; when a commit is late it goes straight on to the
    /// next (the writer falls behind rather than bursting). Returns how many it committed.
    /// </summary>
    private static async Task<long> PublishAtAsync(NpgsqlDataSource dataSource, CommitLog log, int rate, TimeSpan duration, long offset, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT watermark FROM relay.publish($1, $2, $3::jsonb)", connection);
        command.Parameters.Add(new NpgsqlParameter<string>());
        command.Parameters.Add(new NpgsqlParameter<string>());
        command.Parameters.Add(new NpgsqlParameter<string>());
        await command.PrepareAsync(cancellationToken);
        return await ClientFleet.PaceAsync(rate, duration, async committed =>
        {
            var number = offset + committed;
            ((NpgsqlParameter<string>)command.Parameters[0]).TypedValue = log.Topics[0];
            ((NpgsqlParameter<string>)command.Parameters[1]).TypedValue = $"{log.Topics[0]}:{number % 1000}";
            ((NpgsqlParameter<string>)command.Parameters[2]).TypedValue = Documents.RunSummary((int)(number % 1000), (int)(number / 1000));
            var watermark = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            log.Add(0, [watermark], Stopwatch.GetTimestamp());
        }, cancellationToken);
    }
}
