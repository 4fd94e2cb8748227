using OpenAgents.Sync.V1;

namespace Relay.Tests.Sync.StateMachine;

/// <summary>
/// Reads what the relay sent on one connection, in order, against the requests the session made (WS_MAPPING §2, §5):
/// one reply per request, in request order, with its ref; updates only of subscribed topics, each exactly one past the
/// last delivered watermark of its topic (no gap, no duplicate; every document of these tests is visible); batch
/// watermarks equal to what was delivered; heartbeats never ahead of delivery; a STALE_CURSOR push for each stale resume
/// point. What it finds wrong it notes in <see cref="Problems"/>.
/// </summary>
public sealed class SessionChecker
{
    private readonly Queue<(string Ref, string Reply, Action<ServerEnvelope>? Effect)> _replies = new();
    private readonly Dictionary<string, long> _delivered = [];
    private readonly HashSet<string> _awaitingStale = [];

    public List<string> Problems { get; } = [];

    /// <summary>The topics subscribed as far as the envelopes read so far say.</summary>
    public HashSet<string> Subscribed { get; } = [];

    public IReadOnlyDictionary<string, long> Delivered => _delivered;

    public int PendingReplies => _replies.Count;

    public int PendingStaleCursors => _awaitingStale.Count;

    /// <summary>Expects a reply to a request sent with <paramref name="ref"/>: "Subscribed", "Ack" or "Error CODE".</summary>
    public void ExpectReply(string @ref, string reply, Action<ServerEnvelope>? effect = null) => _replies.Enqueue((@ref, reply, effect));

    /// <summary>A Subscribe from <paramref name="after"/> that the relay must accept: delivery restarts after it.</summary>
    public void ExpectSubscribed(string @ref, string topic, long after) =>
        ExpectReply(@ref, "Subscribed", envelope =>
        {
            if (!envelope.Subscribed.CurrentWatermarks.TryGetValue(topic, out var head) || head < after)
            {
                Problems.Add($"Subscribed '{@ref}' does not report {topic} at or above {after}");
            }
            Subscribed.Add(topic);
            _delivered[topic] = after;
        });

    /// <summary>A Subscribe whose resume point is stale: Subscribed without the topic, then a STALE_CURSOR push for it.</summary>
    public void ExpectStale(string @ref, string topic) =>
        ExpectReply(@ref, "Subscribed", envelope =>
        {
            if (envelope.Subscribed.CurrentWatermarks.ContainsKey(topic))
            {
                Problems.Add($"Subscribed '{@ref}' lists {topic}, whose resume point is stale");
            }
            Subscribed.Remove(topic);
            _awaitingStale.Add(topic);
        });

    /// <summary>An Unsubscribe: after its Ack, no update of the topic.</summary>
    public void ExpectUnsubscribed(string @ref, string topic) => ExpectReply(@ref, "Ack", _ => Subscribed.Remove(topic));

    /// <summary>Checks the next envelope the relay sent.</summary>
    public void Read(ServerEnvelope envelope)
    {
        if (envelope.Ref != "")
        {
            Reply(envelope);
        }
        else if (envelope.UpdateBatch is { } batch)
        {
            Batch(batch);
        }
        else if (envelope.Heartbeat is { } heartbeat)
        {
            foreach (var (topic, watermark) in heartbeat.Watermarks)
            {
                if (!Subscribed.Contains(topic) || watermark > _delivered.GetValueOrDefault(topic))
                {
                    Problems.Add($"heartbeat reports {topic}@{watermark}; subscribed {Subscribed.Contains(topic)}, delivered {_delivered.GetValueOrDefault(topic)}");
                }
            }
        }
        else if (envelope.Error is { Code: ErrorCode.StaleCursor } stale && _awaitingStale.Remove(stale.Topic))
        {
            return;
        }
        else
        {
            Problems.Add($"an unexpected push: {Describe(envelope)} {envelope.Error?.Topic} {envelope.Error?.Message}");
        }
    }

    private void Reply(ServerEnvelope envelope)
    {
        if (!_replies.TryDequeue(out var expected))
        {
            Problems.Add($"a reply '{envelope.Ref}' ({Describe(envelope)}) to no request");
            return;
        }
        if (expected.Ref != envelope.Ref || expected.Reply != Describe(envelope))
        {
            Problems.Add($"expected '{expected.Ref}' {expected.Reply}, got '{envelope.Ref}' {Describe(envelope)} {envelope.Error?.Message}");
            return;
        }
        expected.Effect?.Invoke(envelope);
    }

    private void Batch(UpdateBatch batch)
    {
        foreach (var update in batch.Updates)
        {
            var last = _delivered.GetValueOrDefault(update.Topic);
            if (!Subscribed.Contains(update.Topic) || update.Watermark != last + 1)
            {
                Problems.Add($"update {update.Topic}@{update.Watermark}; subscribed {Subscribed.Contains(update.Topic)}, delivered {last}");
            }
            _delivered[update.Topic] = update.Watermark;
        }
        foreach (var (topic, watermark) in batch.Watermarks)
        {
            if (watermark != _delivered.GetValueOrDefault(topic))
            {
                Problems.Add($"batch brings {topic} to {watermark}, delivered {_delivered.GetValueOrDefault(topic)}");
            }
        }
    }

    private static string Describe(ServerEnvelope envelope) =>
        envelope.Error is { } error ? $"Error {error.Code}" : envelope.MessageCase.ToString();
}
