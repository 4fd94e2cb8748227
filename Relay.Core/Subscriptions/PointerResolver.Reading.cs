using Npgsql;
using Relay.Protocol.Hashing;
using Relay.Core.Journal;

namespace Relay.Core.Subscriptions;

public sealed partial class PointerResolver
{
    /// <summary>
    /// Reads the documents of the events, again for those not yet at their event's version: logical decoding can hand
    /// over a commit a moment before other snapshots see it. After <see cref="s_visibilityTimeout"/> a document still
    /// behind its event is an error (never relabelled), and a document still missing has been deleted since.
    /// </summary>
    private async Task<Dictionary<string, Document>> ReadCurrentAsync(string topic, List<JournalEvent> events)
    {
        var documents = new Dictionary<string, Document>(StringComparer.Ordinal);
        var pending = events;
        var delay = TimeSpan.FromMilliseconds(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await ReadTopicAsync(topic, [.. pending.Select(e => e.DocKey).Distinct()], documents);
            pending = [.. events.Where(e => !documents.TryGetValue(e.DocKey, out var d) || d.Version < e.DocVersion)];
            if (pending.Count == 0 || clock.Elapsed > s_visibilityTimeout)
            {
                return pending.FirstOrDefault(e => documents.TryGetValue(e.DocKey, out var d) && d.Version < e.DocVersion) is { } behind
                    ? throw new InvalidOperationException($"{behind.Topic}: {behind.DocKey} is still older than version {behind.DocVersion} of watermark {behind.Watermark}")
                    : documents;
            }
            await Task.Delay(delay);
            delay *= 2;
        }
    }

    private async Task ReadTopicAsync(string topic, string[] docKeys, Dictionary<string, Document> into)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                "SELECT doc_key, doc_version, org_id, convert_to(payload::text, 'UTF8'), payload_hash, deleted FROM relay.read_documents($1, $2) WHERE doc_version IS NOT NULL");
            command.Parameters.AddWithValue(topic);
            command.Parameters.AddWithValue(docKeys);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var payload = reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3);
                into[reader.GetString(0)] = new Document(
                    reader.GetInt64(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    payload,
                    PayloadHash.OfStored(reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4), payload),
                    reader.GetBoolean(5));
            }
        }
        catch (NpgsqlException e) when (DatabaseUnavailableException.Means(e))
        {
            throw new DatabaseUnavailableException(e);
        }
    }
}
