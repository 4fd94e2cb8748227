using System.Collections.Concurrent;

namespace Relay.Host.Sync;

/// <summary>
/// The open connections, so that shutdown can tell each to reconnect elsewhere (close 1012) within a bounded time, and
/// so that the metrics can read their queues and positions.
/// </summary>
internal sealed class SyncConnections
{
    private readonly ConcurrentDictionary<SyncConnection, byte> _open = new();
    private bool _stopping;

    public int Count => _open.Count;

    public ICollection<SyncConnection> Open => _open.Keys;

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
}
