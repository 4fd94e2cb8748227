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
    private static readonly TimeSpan s_visibilityTimeout = TimeSpan.FromSeconds(1);

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
            var documents = await ReadCurrentAsync(mine.Select(m => m.Event).ToList(), cancellationToken);
            foreach (var (journalEvent, result) in mine)
            {
                result.SetResult(Resolve(journalEvent, documents.GetValueOrDefault((journalEvent.Topic, journalEvent.DocKey))));
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

    /// <summary>
    /// Reads the documents of the events, again for those not yet at their event's version: logical decoding can hand
    /// over a commit a moment before other snapshots see it. After <see cref="s_visibilityTimeout"/> a document still
    /// behind its event is an error (never relabelled), and a document still missing has been deleted since.
    /// </summary>
    private async Task<Dictionary<(string, string), Document>> ReadCurrentAsync(List<JournalEvent> events, CancellationToken cancellationToken)
    {
        var documents = new Dictionary<(string, string), Document>();
        var pending = events;
        var delay = TimeSpan.FromMilliseconds(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            foreach (var topic in pending.Select(e => e.Topic).Distinct())
            {
                await ReadTopicAsync(topic, [.. pending.Where(e => e.Topic == topic).Select(e => e.DocKey).Distinct()], documents, cancellationToken);
            }
            pending = [.. events.Where(e => !documents.TryGetValue((e.Topic, e.DocKey), out var d) || d.Version < e.DocVersion)];
            if (pending.Count == 0 || clock.Elapsed > s_visibilityTimeout)
            {
                return pending.FirstOrDefault(e => documents.TryGetValue((e.Topic, e.DocKey), out var d) && d.Version < e.DocVersion) is { } behind
                    ? throw new InvalidOperationException($"{behind.Topic}: {behind.DocKey} is still older than version {behind.DocVersion} of watermark {behind.Watermark}")
                    : documents;
            }
            await Task.Delay(delay, cancellationToken);
            delay *= 2;
        }
    }

    private async Task ReadTopicAsync(string topic, string[] docKeys, Dictionary<(string, string), Document> into, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT doc_key, doc_version, convert_to(payload::text, 'UTF8'), payload_hash, deleted FROM relay.read_documents($1, $2) WHERE doc_version IS NOT NULL");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue(docKeys);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            into[(topic, reader.GetString(0))] = new Document(
                reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3),
                reader.GetBoolean(4));
        }
    }

    /// <summary>The event as delivered: the document's current version and payload, or a tombstone.</summary>
    private static JournalEvent Resolve(JournalEvent journalEvent, Document? document) => document switch
    {
        { Deleted: false, Payload: { } payload } => journalEvent with { DocVersion = document.Version, Payload = payload, PayloadHash = document.Hash },
        { } deleted => journalEvent with { DocVersion = deleted.Version, Tombstone = true, PayloadHash = null },
        null => journalEvent with { Tombstone = true, PayloadHash = null },
    };

    private sealed record Document(long Version, byte[]? Payload, byte[]? Hash, bool Deleted);

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
