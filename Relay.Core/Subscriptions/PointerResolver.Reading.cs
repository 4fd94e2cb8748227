using Npgsql;
using Relay.Protocol.Hashing;
using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

public sealed partial class PointerResolver
{
    /// <summary>
    /// Reads the documents of the events. Logical decoding can hand over a commit before other snapshots see it (a
    /// moment, or a synchronous standby's round trip), so each read also takes the topic's head in the same snapshot:
    /// once that head covers the events, their commits are visible and what was read is final, whatever it is (a row
    /// deleted since, or deleted and inserted again at a lower version, is not waited for). Until then the documents not
    /// yet at their event's version are read again, less and less often; a missing one is never taken for deleted
    /// before the head covers its event. After <see cref="VisibilityTimeout"/> without that, the read fails as
    /// <see cref="DatabaseUnavailableException"/> (the subscription ends with <c>UNAVAILABLE</c>, and its client subscribes
    /// again) rather than guess.
    /// </summary>
    private async Task<Dictionary<string, Document>> ReadCurrentAsync(string topic, List<JournalEvent> events)
    {
        var documents = new Dictionary<string, Document>(StringComparer.Ordinal);
        var pending = events;
        var through = events.Max(e => e.Watermark);
        var delay = TimeSpan.FromMilliseconds(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            string[] keys = [.. pending.Select(e => e.DocKey).Distinct()];
            // What an earlier round read of these is older than this round's snapshot, which may find no row.
            Array.ForEach(keys, key => documents.Remove(key));
            var visibleHead = await ReadTopicAsync(topic, keys, documents);
            if (visibleHead >= through)
            {
                return documents;
            }
            pending = [.. events.Where(e => !documents.TryGetValue(e.DocKey, out var d) || d.Version < e.DocVersion)];
            if (pending.Count == 0)
            {
                return documents;
            }
            if (clock.Elapsed > VisibilityTimeout)
            {
                // Clients are told UNAVAILABLE and subscribe again after a delay: PostgreSQL cannot give the commit yet.
                throw new DatabaseUnavailableException(new TimeoutException(
                    $"{topic}: the commit of watermark {through} is still not visible after {VisibilityTimeout.TotalSeconds:0.#} s (the topic's head reads {visibleHead}); a synchronous standby that does not confirm holds commits back"));
            }
            await Task.Delay(delay);
            delay = delay * 2 < MaxVisibilityDelay ? delay * 2 : MaxVisibilityDelay;
        }
    }

    /// <summary>
    /// Reads the documents of <paramref name="docKeys"/> that have a row into <paramref name="into"/>, and returns the
    /// topic's head in the same snapshot (<c>read_documents</c> is <c>STABLE</c>, so it reads in its caller's).
    /// </summary>
    private async Task<long> ReadTopicAsync(string topic, string[] docKeys, Dictionary<string, Document> into)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                """
                SELECT (SELECT head_watermark FROM relay.topics WHERE topic = $1),
                       doc_key, doc_version, org_id, convert_to(payload::text, 'UTF8'), payload_hash, deleted
                  FROM relay.read_documents($1, $2)
                """);
            command.Parameters.AddWithValue(topic);
            command.Parameters.AddWithValue(docKeys);
            await using var reader = await command.ExecuteReaderAsync();
            var head = 0L;
            while (await reader.ReadAsync())
            {
                head = reader.IsDBNull(0) ? 0 : reader.GetInt64(0);
                if (reader.IsDBNull(2))
                {
                    continue;
                }
                var payload = reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4);
                into[reader.GetString(1)] = new Document(
                    reader.GetInt64(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    payload,
                    PayloadHash.OfStored(reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5), payload),
                    reader.GetBoolean(6));
            }
            return head;
        }
        catch (NpgsqlException e) when (DatabaseUnavailableException.Means(e))
        {
            throw new DatabaseUnavailableException(e);
        }
    }
}
