using Npgsql;
using System.Diagnostics;
using OpenAgents.Sync.V1;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
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

    /// <summary>
    /// Queues a heartbeat with each topic's cursor. Built and queued under the gate that also orders each pump's
    /// frame with its cursor, so watermarks on a connection never go backwards.
    /// </summary>
    private void QueueHeartbeat()
    {
        lock (_pumpsGate)
        {
            var heartbeat = new Heartbeat();
            foreach (var (topic, pump) in _pumps)
            {
                heartbeat.Watermarks.Add(topic, pump.Through);
                heartbeat.Epochs.Add(topic, pump.Subscription.Epoch);
            }
            Push(new ServerEnvelope { Heartbeat = heartbeat });
        }
    }

    /// <summary>
    /// Queues a batch's frame (if it has one) and moves the pump's cursor past it in one step, as heartbeats see it;
    /// false when the connection is closing.
    /// </summary>
    private async ValueTask<bool> QueueAsync(TopicPump pump, byte[]? frame, long through, CancellationToken cancellationToken)
    {
        if (frame is not null)
        {
            await _queue.WaitForSpaceAsync(frame.Length, cancellationToken);
        }
        lock (_pumpsGate)
        {
            if (frame is not null && !_queue.TryWrite(new OutboundFrame(frame, Framing.MessageType)))
            {
                return false;
            }
            pump.Through = through;
            return true;
        }
    }

    /// <summary>
    /// Moves one subscription's batches into the send queue. It ends quietly only when its own token says so
    /// (unsubscribed, resubscribed, or the connection is closing); any other end tells the client, so a subscriber
    /// never waits silently.
    /// </summary>
    private async Task PumpAsync(TopicPump pump)
    {
        var subscription = pump.Subscription;
        var cancellationToken = pump.Stop.Token;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await foreach (var batch in subscription.ReadAsync(cancellationToken))
            {
                byte[]? frame = null;
                if (batch.Events.Count > 0 || batch.Phase == SubscriptionPhase.CaughtUp)
                {
                    var key = new BatchFrameCache.BatchKey(Framing.Name, batch.Topic, subscription.Epoch, pump.Through, batch.Through, batch.Phase,
                        subscription.Audience.Key, BatchFrameCache.BatchKey.FingerprintOf(batch.Events));
                    frame = Context.Frames.GetOrEncode(key, static state => state.Framing.EncodePush(UpdateMapper.ToEnvelope(state.batch)), (Framing, batch));
                }
                if (!await QueueAsync(pump, frame, batch.Through, cancellationToken))
                {
                    return;
                }
                // Subscribe to the end of its replay, once: catching up again after falling behind is counted as fell-behind.
                if (batch.Phase == SubscriptionPhase.CaughtUp && started != 0)
                {
                    Context.Metrics.CatchUpDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    started = 0;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Unsubscribed, resubscribed, or the connection is closing.
        }
        catch (StaleCursorException e)
        {
            RelayMetrics.Add(Context.Metrics.StaleCursors, subscription.Topic);
            End(pump, Errors.Create(ErrorCode.StaleCursor, e.Message, e.Topic));
        }
        catch (DatabaseUnavailableException e)
        {
            Log.PumpUnavailable(Context.Logger, subscription.Topic, e.Message);
            RelayMetrics.Add(Context.Metrics.ReplayErrors, subscription.Topic);
            End(pump, Errors.Unavailable($"the journal of {subscription.Topic} cannot be read right now; subscribe again", topic: subscription.Topic));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            Log.PumpRightMissing(Context.Logger, subscription.Topic, e.MessageText);
            RelayMetrics.Add(Context.Metrics.ReplayErrors, subscription.Topic);
            End(pump, Errors.Create(ErrorCode.Internal, "the relay may not read this topic (a database right is missing; its log says which)", subscription.Topic));
        }
        catch (Exception e)
        {
            Log.PumpFailed(Context.Logger, subscription.Topic, e);
            RelayMetrics.Add(Context.Metrics.ReplayErrors, subscription.Topic);
            End(pump, Errors.Create(ErrorCode.Internal, "the subscription failed; subscribe again", subscription.Topic));
        }
    }

    /// <summary>A pump that ended by itself leaves the subscribed set, and its client learns why.</summary>
    private void End(TopicPump pump, ServerEnvelope error)
    {
        Forget(pump);
        Push(error);
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
