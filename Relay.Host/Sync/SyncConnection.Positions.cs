namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    /// <summary>Each subscribed topic with the watermark queued for the client so far, for the lag metrics.</summary>
    public (string Topic, long Through)[] Positions()
    {
        lock (_pumpsGate)
        {
            return [.. _pumps.Select(p => (p.Key, p.Value.Through))];
        }
    }
}
