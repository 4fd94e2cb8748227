using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Core.Subscriptions;

public sealed partial class PointerResolver
{
    /// <summary>A document's row in the topic's read model.</summary>
    private sealed record Document(long Version, string? OrgId, byte[]? Payload, byte[]? Hash, bool Deleted);

    /// <summary>
    /// What one read found for a document (null: no row), and the log's head and generation when the read started
    /// (<see cref="TopicLog.Position"/>).
    /// </summary>
    private sealed record Read(Document? Document, long ReadAtHead, long Generation)
    {
        /// <summary>The payload's size, which the cache counts against its budget.</summary>
        public long PayloadBytes => Document?.Payload?.Length ?? 0;

        /// <summary>
        /// Whether this read may stand for <paramref name="journalEvent"/>'s document now: it shows the document at
        /// least as new as the event, and the log has had no later event of the document since the read (nor one
        /// before it that the read's snapshot did not yet see). A log that started over since (a new epoch: the topic
        /// dropped and created again, the database restored) holds events the read knows nothing of, below its head:
        /// a cached v9 of the old topic would pass for the new topic's v1.
        /// </summary>
        public bool IsCurrentFor(TopicLog log, JournalEvent journalEvent) =>
            Reflects(journalEvent)
            && log.TryFindNewest(journalEvent.DocKey, ReadAtHead, Generation, out var newest)
            && (newest is null || (newest.Watermark <= ReadAtHead && Reflects(newest)));

        /// <summary>The event as delivered: the document's current version, payload and organisation, or a tombstone.</summary>
        public JournalEvent Resolve(JournalEvent journalEvent) => Document switch
        {
            { Deleted: false, Payload: { } payload } live =>
                journalEvent with { DocVersion = live.Version, OrgId = live.OrgId, Payload = payload, PayloadHash = live.Hash },
            { } deleted => journalEvent with { DocVersion = deleted.Version, OrgId = deleted.OrgId, Tombstone = true, PayloadHash = null },
            null => journalEvent with { Tombstone = true, PayloadHash = null },
        };

        /// <summary>Whether the row read is at least as new as the state <paramref name="journalEvent"/> journaled.</summary>
        private bool Reflects(JournalEvent journalEvent) => Document switch
        {
            { Deleted: false } live => journalEvent.Tombstone ? live.Version > journalEvent.DocVersion : live.Version >= journalEvent.DocVersion,
            { } deleted => journalEvent.Tombstone || deleted.Version >= journalEvent.DocVersion,
            // No row: deleted since, or not yet visible; only a tombstone says which.
            null => journalEvent.Tombstone,
        };
    }
}
