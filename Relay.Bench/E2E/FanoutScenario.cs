using System.Diagnostics;
using Relay.Bench.Micro;
using Relay.Host.Sync;
using Relay.Protocol;

namespace Relay.Bench.E2E;

/// <summary>
/// <c>e2e fanout</c>: 1,000 binary-protocol clients on one topic while updates are published in batches of 100 at a
/// rising rate, to find the highest rate the clients keep up with: a step is sustained when every client has every
/// update within 2 s of the step's end. The baseline runs the same ladder against <see cref="RawFanoutServer"/>, a bare
/// Kestrel WebSocket loop sent the same frames (encoded by this process, as the relay would), with no database.
/// Latency is measured on 100 of the clients. A warm-up step at the first rate, before the ladder, is not reported.
/// </summary>
internal static class FanoutScenario
{
    private const string Topic = "bench.fanout";
    private const int BatchSize = 100;
    private static readonly TimeSpan s_keepUp = TimeSpan.FromSeconds(2);

    public static async Task<IReadOnlyList<ScenarioRow>> RunAsync(bool quick, CancellationToken cancellationToken = default)
    {
        var (database, dataSource) = await BenchDatabase.StartAsync(cancellationToken);
        await using var _ = database;
        await using var __ = dataSource;
        await BenchDatabase.CreateTopicAsync(dataSource, Topic, cancellationToken);
        var postmaster = await CpuMeter.FindPostmasterAsync(dataSource);
        var clients = quick ? 50 : 1000;
        var rates = quick ? new[] { 500 } : [250, 500, 1000, 2000, 4000];
        var step = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);

        var rows = new List<ScenarioRow>();
        await using (var raw = await ServerProcess.StartRawAsync())
        {
            using var http = new HttpClient { BaseAddress = raw.Http };
            var iteration = 0;
            rows.AddRange(await LadderAsync("bare Kestrel loop (baseline)", raw, null, clients, rates, step, quick, (log, ct) =>
                BroadcastAsync(http, log, Interlocked.Increment(ref iteration), ct), cancellationToken));
        }
        await using (var relay = await ServerProcess.StartRelayAsync(dataSource.ConnectionString))
        {
            var iteration = 0;
            rows.AddRange(await LadderAsync("relay", relay, postmaster, clients, rates, step, quick, (log, ct) =>
                ClientFleet.PublishAsync(dataSource, log, 0, Interlocked.Increment(ref iteration), BatchSize, ct), cancellationToken));
        }
        return rows;
    }

    private static async Task<List<ScenarioRow>> LadderAsync(
        string name, ServerProcess server, int? postmaster, int clientCount, int[] rates, TimeSpan step, bool quick,
        Func<CommitLog, CancellationToken, Task> publish, CancellationToken cancellationToken)
    {
        var log = new CommitLog(Topic);
        var clients = await ClientFleet.ConnectAsync(server, log, clientCount, recorded: Math.Min(100, clientCount));
        var rows = new List<ScenarioRow>();
        var expected = 0L;
        if (!quick)
        {
            // Not reported: tiered compilation recompiles a fresh server's hot paths in its first seconds, and the
            // first step carried that (p50 1.3 s at 250 updates/s against 86 ms at 500 in one run).
            expected += (long)await ClientFleet.OfferAsync(TimeSpan.FromSeconds((double)BatchSize / rates[0]), step, _ => publish(log, cancellationToken), cancellationToken) * BatchSize;
            await ClientFleet.WaitReceivedAsync(clients, expected, s_keepUp);
            log.Latencies(clients);
        }
        foreach (var rate in rates)
        {
            var before = clients.Sum(c => Interlocked.Read(ref c.Updates));
            var cpu = CpuMeter.Start(server, postmaster);
            var clock = Stopwatch.StartNew();
            var ticks = await ClientFleet.OfferAsync(TimeSpan.FromSeconds((double)BatchSize / rate), step, _ => publish(log, cancellationToken), cancellationToken);
            var published = (long)ticks * BatchSize;
            var seconds = clock.Elapsed.TotalSeconds;
            var delivered = clients.Sum(c => Interlocked.Read(ref c.Updates)) - before;
            var shares = cpu.Stop(name == "relay" ? "relay" : "server");
            expected += published;
            var sustained = await ClientFleet.WaitReceivedAsync(clients, expected, s_keepUp);
            var latencies = log.Latencies(clients);
            rows.Add(new ScenarioRow($"{name}: {clientCount:N0} clients, {rate:N0} updates/s offered",
            [
                ("published/s", $"{published / seconds:F0}"),
                ("delivered updates/s", $"{delivered / seconds:F0}"),
                ("p50 (ms)", $"{latencies.At(50):F2}"),
                ("p99 (ms)", $"{latencies.At(99):F2}"),
                ("sustained", sustained ? "yes" : "no"),
                ("server CPU per delivery (µs)", delivered > 0 ? $"{cpu.ServerTime.TotalMicroseconds / delivered:F1}" : "–"),
                ("server RSS (MiB)", $"{server.ResidentBytes() / 1048576.0:F0}"),
                ("CPU of the machine", shares),
            ]));
            if (!sustained)
            {
                break;
            }
        }
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        return rows;
    }

    /// <summary>The raw server's "publish": encode a live batch of the next watermarks, as the relay would, and hand it over.</summary>
    private static async Task BroadcastAsync(HttpClient http, CommitLog log, int iteration, CancellationToken cancellationToken)
    {
        var batch = Batches.RunSummaries(BatchSize, Topic, after: (long)(iteration - 1) * BatchSize);
        var frame = ProtoFraming.Encode(UpdateMapper.ToEnvelope(batch));
        var at = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("broadcast", new ByteArrayContent(frame), cancellationToken);
        response.EnsureSuccessStatusCode();
        log.Add(0, [.. batch.Events.Select(e => e.Watermark)], at);
    }
}
