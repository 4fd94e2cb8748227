using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenAgents.Sync.V1;

namespace Relay.Bench.E2E;

/// <summary>
/// Many <see cref="StormClient"/>s started at once, each on its own resume point, and what they went through: when each
/// was caught up, the errors the relay sent them, and the connections that failed.
/// </summary>
internal sealed class StormFleet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<StormClient> _clients;
    private readonly Task[] _runs;

    private StormFleet(ServerProcess relay, IEnumerable<(string Topic, long ResumeAfter)> resumePoints)
    {
        _clients = [.. resumePoints.Select(point => new StormClient(point.Topic, point.ResumeAfter) { Errors = Errors })];
        var token = ServerProcess.Token();
        _runs = [.. _clients.Select(client => Task.Run(() => client.RunAsync(relay.WebSocket, token, _stop.Token)))];
    }

    public ConcurrentDictionary<ErrorCode, int> Errors { get; } = new();

    public int Count => _clients.Count;

    /// <summary>Starts one client per resume point, all at once.</summary>
    public static StormFleet Start(ServerProcess relay, IEnumerable<(string Topic, long ResumeAfter)> resumePoints) => new(relay, resumePoints);

    /// <summary>Forgets the clients' caught-up reports, before a storm of their own (a relay restart).</summary>
    public void Expect()
    {
        foreach (var client in _clients)
        {
            client.Expect();
        }
    }

    /// <summary>Forgets the errors and failed connections so far (those of a relay that was down).</summary>
    public void ForgetProblems()
    {
        Errors.Clear();
        foreach (var client in _clients)
        {
            Interlocked.Exchange(ref client.ConnectFailures, 0);
        }
    }

    /// <summary>
    /// Waits until every client has been caught up (or <paramref name="within"/> has passed) and returns the times from
    /// <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp) to each client's caught-up report, in milliseconds.
    /// </summary>
    public async Task<Percentiles> WaitCaughtUpAsync(long since, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (_clients.Any(c => c.CaughtUpAt == 0) && clock.Elapsed < within)
        {
            await Task.Delay(50);
        }
        var times = new Percentiles();
        foreach (var client in _clients.Where(c => c.CaughtUpAt != 0))
        {
            times.Add(Math.Max(0, Stopwatch.GetElapsedTime(since, client.CaughtUpAt).TotalMilliseconds));
        }
        return times;
    }

    /// <summary>"none", or the errors by code and the failed connections, e.g. "UNAVAILABLE 12 · failed connections 40".</summary>
    public string Problems()
    {
        // Codes as the contract spells them: Unavailable → UNAVAILABLE, StaleCursor → STALE_CURSOR.
        var parts = Errors.OrderBy(e => e.Key)
            .Select(e => $"{Regex.Replace($"{e.Key}", "(?<!^)([A-Z])", "_$1").ToUpperInvariant()} {e.Value}").ToList();
        var failures = _clients.Sum(c => Volatile.Read(ref c.ConnectFailures));
        if (failures > 0)
        {
            parts.Add($"failed connections {failures}");
        }
        return parts.Count == 0 ? "none" : string.Join(" · ", parts);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_runs);
        _stop.Dispose();
    }
}
