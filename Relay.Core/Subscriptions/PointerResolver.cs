using Npgsql;
using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

/// <summary>
/// Reads the current document for pointer-mode events (whose journal rows hold no payload) through
/// <c>relay.read_documents</c>. Results are shared by watermark, so a live batch reaching a thousand subscribers is read
/// once; concurrent requests for the same watermarks wait for the one read in flight.
/// </summary>
public sealed class PointerResolver(NpgsqlDataSource dataSource)
{
    private const int CacheCapacity = 20_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, long Watermark), Task<JournalEvent>> _cache = [];
    private readonly Queue<(string Topic, long Watermark)> _order = new();

    /// <summary>
    /// Replaces each pointer event by its document's current state: a newer version where the document moved on, a
    /// tombstone where it is gone. Other events pass through.
    /// </summary>
    public async Task<IReadOnlyList<JournalEvent>> ResolveAsync(IReadOnlyList<JournalEvent> events, CancellationToken cancellationToken = default)
    {
        if (!events.Any(e => e.IsPointer))
        {
            return events;
        }
        var mine = new List<(JournalEvent Event, TaskCompletionSource<JournalEvent> Result)>();
        var pending = new Task<JournalEvent>[events.Count];
        lock (_gate)
        {
            for (var i = 0; i < events.Count; i++)
            {
                var journalEvent = events[i];
                if (!journalEvent.IsPointer)
                {
                    pending[i] = Task.FromResult(journalEvent);
                }
                else if (_cache.TryGetValue((journalEvent.Topic, journalEvent.Watermark), out var cached))
                {
                    pending[i] = cached;
                }
                else
                {
                    var result = new TaskCompletionSource<JournalEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
                    Remember((journalEvent.Topic, journalEvent.Watermark), result.Task);
                    mine.Add((journalEvent, result));
                    pending[i] = result.Task;
                }
            }
        }
        if (mine.Count > 0)
        {
            await ReadAsync(mine, cancellationToken);
        }
        return await Task.WhenAll(pending);
    }

    private async Task ReadAsync(List<(JournalEvent Event, TaskCompletionSource<JournalEvent> Result)> mine, CancellationToken cancellationToken)
    {
        try
        {
            var documents = new Dictionary<string, (long? Version, string? OrgId, byte[]? Payload, byte[]? Hash, bool Deleted)>(StringComparer.Ordinal);
            foreach (var topic in mine.Select(m => m.Event.Topic).Distinct())
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT doc_key, doc_version, org_id, convert_to(payload::text, 'UTF8'), payload_hash, deleted FROM relay.read_documents($1, $2)");
                command.Parameters.AddWithValue(topic);
                command.Parameters.AddWithValue(mine.Where(m => m.Event.Topic == topic).Select(m => m.Event.DocKey).Distinct().ToArray());
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    documents[reader.GetString(0)] = (
                        reader.IsDBNull(1) ? null : reader.GetInt64(1),
                        reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
                        reader.GetBoolean(5));
                }
            }
            foreach (var (journalEvent, result) in mine)
            {
                var document = documents.GetValueOrDefault(journalEvent.DocKey);
                result.SetResult(document is { Version: { } version, Deleted: false, Payload: { } payload }
                    ? journalEvent with { DocVersion = Math.Max(version, journalEvent.DocVersion), Payload = payload, PayloadHash = document.Hash }
                    : journalEvent with { DocVersion = document.Version ?? journalEvent.DocVersion, Tombstone = true, PayloadHash = null });
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                foreach (var (journalEvent, _) in mine)
                {
                    _cache.Remove((journalEvent.Topic, journalEvent.Watermark));
                }
            }
            foreach (var (_, result) in mine)
            {
                result.TrySetException(e);
            }
        }
    }

    private void Remember((string, long) key, Task<JournalEvent> result)
    {
        _cache[key] = result;
        _order.Enqueue(key);
        while (_order.Count > CacheCapacity)
        {
            _cache.Remove(_order.Dequeue());
        }
    }
}
