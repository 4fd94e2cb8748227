using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>
/// The newest version of each pointer-mode document one subscription delivered, so that an event resolved earlier
/// (to an older version) is skipped after a newer one went out. Bounded: the oldest entries are forgotten first,
/// after which the client's own (doc_key, doc_version) check still ignores the older payload.
/// </summary>
internal sealed class PointerVersions
{
    private const int Capacity = 4096;

    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>True when <paramref name="journalEvent"/> is newer than what went out for its document; then records it.</summary>
    public bool Advance(JournalEvent journalEvent)
    {
        if (_versions.TryGetValue(journalEvent.DocKey, out var delivered))
        {
            if (journalEvent.DocVersion <= delivered)
            {
                return false;
            }
        }
        else
        {
            _order.Enqueue(journalEvent.DocKey);
            if (_order.Count > Capacity)
            {
                _versions.Remove(_order.Dequeue());
            }
        }
        _versions[journalEvent.DocKey] = journalEvent.DocVersion;
        return true;
    }
}
