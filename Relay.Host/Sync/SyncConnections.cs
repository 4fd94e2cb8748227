using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Relay.Core.Diagnostics;

namespace Relay.Host.Sync;

/// <summary>
/// The open connections, so that shutdown can tell each to reconnect elsewhere (close 1012) within a bounded time; also
/// publishes their count and the bytes queued for them on the relay's meter.
/// </summary>
internal sealed class SyncConnections : IDisposable
{
    private readonly ConcurrentDictionary<SyncConnection, byte> _open = new();
    private readonly Meter _meter = new(RelayMetrics.MeterName);
    private bool _stopping;

    public SyncConnections()
    {
        _meter.CreateObservableGauge("relay.connections", () => _open.Count, "{connection}", "Open WebSocket connections");
        _meter.CreateObservableGauge("relay.connections.queued_bytes.max", () => _open.Keys.Select(c => c.QueuedBytes).DefaultIfEmpty().Max(),
            "By", "Encoded bytes waiting for the most backed-up connection");
        _meter.CreateObservableGauge("relay.connections.queued_bytes", () => _open.Keys.Sum(c => c.QueuedBytes),
            "By", "Encoded bytes waiting for all connections");
    }

    public int Count => _open.Count;

    /// <summary>Shutdown has begun: new upgrades are refused with 503 until the relay exits.</summary>
    public bool Stopping => Volatile.Read(ref _stopping);

    public void Add(SyncConnection connection) => _open.TryAdd(connection, 0);

    public void Remove(SyncConnection connection) => _open.TryRemove(connection, out _);

    /// <summary>Sends every connection <c>UNAVAILABLE</c> and close 1012, and waits for them to end, at most <paramref name="timeout"/>.</summary>
    public async Task CloseAllAsync(TimeSpan timeout)
    {
        Volatile.Write(ref _stopping, true);
        var connections = _open.Keys.ToArray();
        foreach (var connection in connections)
        {
            connection.Shutdown();
        }
        await Task.WhenAll(connections.Select(c => c.Completion)).WaitAsync(timeout).ContinueWith(_ => { }, TaskScheduler.Default);
        foreach (var connection in _open.Keys)
        {
            connection.Abort();
        }
    }

    public void Dispose() => _meter.Dispose();
}
