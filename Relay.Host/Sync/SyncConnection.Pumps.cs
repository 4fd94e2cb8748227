using System.Diagnostics;
using OpenAgents.Sync.V1;
using Relay.Core.Diagnostics;
using Relay.Core.Subscriptions;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    private readonly Dictionary<string, TopicPump> _pumps = new(StringComparer.Ordinal);
    private readonly Lock _pumpsGate = new();

    private int PumpCount
    {
        get
        {
            lock (_pumpsGate)
            {
                return _pumps.Count;
            }
        }
    }

    private void StartPump(Subscription subscription)
    {
        var pump = new TopicPump(subscription, CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token));
        lock (_pumpsGate)
        {
            _pumps[subscription.Topic] = pump;
        }
        pump.Running = Task.Run(() => PumpAsync(pump));
    }

    private async Task<bool> StopPumpAsync(string topic)
    {
        TopicPump? pump;
        lock (_pumpsGate)
        {
            if (_pumps.Remove(topic, out pump) is false)
            {
                return false;
            }
        }
        await pump.StopAsync();
        return true;
    }

    protected async Task StopAllPumpsAsync()
    {
        TopicPump[] pumps;
        lock (_pumpsGate)
        {
            pumps = [.. _pumps.Values];
            _pumps.Clear();
        }
        await Task.WhenAll(pumps.Select(p => p.StopAsync()));
    }

    private string[] SubscribedTopics()
    {
        lock (_pumpsGate)
        {
            return [.. _pumps.Keys];
        }
    }

    private ServerEnvelope Heartbeat()
    {
        var heartbeat = new Heartbeat();
        lock (_pumpsGate)
        {
            foreach (var (topic, pump) in _pumps)
            {
                heartbeat.Watermarks.Add(topic, pump.Through);
            }
        }
        return new ServerEnvelope { Heartbeat = heartbeat };
    }

    private async Task PumpAsync(TopicPump pump)
    {
        var subscription = pump.Subscription;
        var cancellationToken = pump.Stop.Token;
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (subscription.OpenedCaughtUp)
            {
                Context.Metrics.CatchUpDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                await _queue.WriteAsync(new OutboundFrame(Wire.EncodePush(UpdateMapper.CaughtUp(subscription.Topic, subscription.Cursor)), Wire.MessageType), cancellationToken);
            }
            await foreach (var batch in subscription.ReadAsync(cancellationToken))
            {
                var after = pump.Through;
                if (batch.Events.Count > 0 || UpdateMapper.EndsReplay(batch))
                {
                    var key = new BatchFrameCache.BatchKey(Wire.Name, batch.Topic, after, batch.Through, batch.Live, UpdateMapper.EndsReplay(batch), Identity?.OrgId ?? "",
                        BatchFrameCache.BatchKey.FingerprintOf(batch.Events));
                    var frame = Context.Frames.GetOrEncode(key, () => Wire.EncodePush(UpdateMapper.ToEnvelope(batch)));
                    await _queue.WriteAsync(new OutboundFrame(frame, Wire.MessageType), cancellationToken);
                    if (UpdateMapper.EndsReplay(batch))
                    {
                        Context.Metrics.CatchUpDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    }
                }
                pump.Through = batch.Through;
            }
        }
        catch (OperationCanceledException)
        {
            // Unsubscribed, resubscribed, or the connection is closing (its queue refuses more frames).
        }
        catch (StaleCursorException e)
        {
            RelayMetrics.Add(Context.Metrics.StaleCursors, subscription.Topic);
            Forget(pump);
            Push(Errors.Create(ErrorCode.StaleCursor, e.Message, e.Topic));
        }
        catch (Exception e)
        {
            Log.PumpFailed(Context.Logger, subscription.Topic, e);
            RelayMetrics.Add(Context.Metrics.ReplayErrors, subscription.Topic);
            Forget(pump);
            Push(Errors.Create(ErrorCode.Internal, "the subscription failed; subscribe again", subscription.Topic));
        }
    }

    /// <summary>A pump that ended by itself leaves the subscribed set.</summary>
    private void Forget(TopicPump pump)
    {
        lock (_pumpsGate)
        {
            if (_pumps.TryGetValue(pump.Subscription.Topic, out var current) && current == pump)
            {
                _pumps.Remove(pump.Subscription.Topic);
            }
        }
    }
}
