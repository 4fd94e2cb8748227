using Google.Protobuf;
using OpenAgents.Sync.V1;
using Relay.Core.Subscriptions;
using Relay.Protocol;

namespace Relay.Host.Sync;

/// <summary>Turns a subscription's batch into the wire's <c>UpdateBatch</c> (WS_MAPPING §4, §5.4).</summary>
internal static class UpdateMapper
{
    /// <summary>The push for a batch: its updates, phase, the caught-up topic when replay ends here, and the cursor.</summary>
    public static ServerEnvelope ToEnvelope(EventBatch batch)
    {
        var updates = new UpdateBatch { Phase = batch.Live ? BatchPhase.Live : BatchPhase.Replay };
        updates.Watermarks.Add(batch.Topic, batch.Through);
        if (EndsReplay(batch))
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

    /// <summary>The client learns it is caught up from the batch that ends its replay.</summary>
    public static bool EndsReplay(EventBatch batch) => batch.CaughtUp && !batch.Live;

    /// <summary>The empty batch that tells a client subscribed at the head that it is caught up.</summary>
    public static ServerEnvelope CaughtUp(string topic, long watermark)
    {
        var updates = new UpdateBatch { Phase = BatchPhase.Live };
        updates.CaughtUpTopics.Add(topic);
        updates.Watermarks.Add(topic, watermark);
        return new ServerEnvelope { UpdateBatch = updates };
    }
}
