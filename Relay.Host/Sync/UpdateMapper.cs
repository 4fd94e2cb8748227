using Google.Protobuf;
using OpenAgents.Sync.V1;
using Relay.Core.Subscriptions;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>Turns a subscription's batch into the wire's <c>UpdateBatch</c> (WS_MAPPING §4, §5.4).</summary>
internal static class UpdateMapper
{
    /// <summary>
    /// The push for a batch: its updates, the phase (the batch that ends a replay is the replay's last, and names the
    /// topic caught up), and the cursor.
    /// </summary>
    public static ServerEnvelope ToEnvelope(EventBatch batch)
    {
        var updates = new UpdateBatch { Phase = batch.Phase == SubscriptionPhase.Live ? BatchPhase.Live : BatchPhase.Replay };
        updates.Watermarks.Add(batch.Topic, batch.Through);
        if (batch.Phase == SubscriptionPhase.CaughtUp)
        {
            updates.CaughtUpTopics.Add(batch.Topic);
        }
        foreach (var journalEvent in batch.Events)
        {
            var update = new Update
            {
                Topic = journalEvent.Topic,
                DocKey = journalEvent.DocKey,
                DocVersion = journalEvent.DocVersion,
                Watermark = journalEvent.Watermark,
                Tombstone = journalEvent.Tombstone,
            };
            if (journalEvent.PayloadHash is { } hash)
            {
                update.PayloadHash = UnsafeByteOperations.UnsafeWrap(hash);
            }
            if (journalEvent.Payload is { } payload)
            {
                // Deterministic for every client and framing: over 256 KiB, the client fetches the document.
                if (payload.Length > ProtocolLimits.MaxInlinePayloadBytes)
                {
                    update.PayloadOmitted = true;
                }
                else
                {
                    update.Payload = UnsafeByteOperations.UnsafeWrap(payload);
                }
            }
            updates.Updates.Add(update);
        }
        return new ServerEnvelope { UpdateBatch = updates };
    }
}
