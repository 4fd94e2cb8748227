using System.Diagnostics;
using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Protocol.Hashing;

namespace Relay.Core.Journal;

/// <summary>Reads the journal and topic heads with plain queries: catch-up, gap filling and the notify feed.</summary>
/// <param name="dataSource">The database.</param>
/// <param name="metrics">Times each batch read (<see cref="RelayMetrics.ReplayBatchDuration"/>); none by default.</param>
public sealed class JournalReader(NpgsqlDataSource dataSource, RelayMetrics? metrics = null)
{
    /// <summary>
    /// A page of a topic's events, at most $4 of them, whose payloads PostgreSQL sends only while the payloads before
    /// them (their stored size, <c>pg_column_size</c>, which reads no TOAST) stay under $5: a page of large documents
    /// would otherwise send every row up to the limit for the reader to keep a few (358 MB sent for 16 MB kept, with
    /// 400 documents of 900 KB). The last column says whether the row is within that bound.
    /// </summary>
    private const string PageQuery = """
        SELECT topic, watermark, doc_key, doc_version, org_id,
               CASE WHEN before_bytes < $5 THEN convert_to(payload::text, 'UTF8') END, payload_hash, tombstone, inserted_at,
               before_bytes < $5
          FROM (SELECT e.*, sum(coalesce(pg_column_size(e.payload), 0)) OVER w - coalesce(pg_column_size(e.payload), 0) AS before_bytes
                  FROM relay.stream_events e
                 WHERE e.topic = $1 AND e.watermark > $2 AND e.watermark <= $3
                WINDOW w AS (ORDER BY e.watermark)
                 ORDER BY e.watermark
                 LIMIT $4) page
         ORDER BY watermark
        """;

    /// <summary>Every topic with its head and retained window.</summary>
    public async Task<IReadOnlyList<TopicState>> ReadTopicsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadTopicsAsync(connection, cancellationToken);
    }

    /// <summary>Every topic with its head and retained window, on the given connection (and its snapshot).</summary>
    public static async Task<IReadOnlyList<TopicState>> ReadTopicsAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using var command = new NpgsqlCommand("SELECT topic, head_watermark, retained_after, epoch FROM relay.topics", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var topics = new List<TopicState>();
        while (await reader.ReadAsync(cancellationToken))
        {
            topics.Add(new TopicState(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3)));
        }
        return topics;
    }

    /// <summary>One topic's head and retained window; null when the topic does not exist.</summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<TopicState?> ReadTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                "SELECT topic, head_watermark, retained_after, epoch FROM relay.topics WHERE topic = $1");
            command.Parameters.AddWithValue(topic);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new TopicState(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3))
                : null;
        }
        catch (NpgsqlException e) when (DatabaseUnavailableException.Means(e))
        {
            throw new DatabaseUnavailableException(e);
        }
    }

    /// <summary>
    /// Events of <paramref name="topic"/> with watermark in (<paramref name="after"/>, <paramref name="through"/>], in
    /// order, at most <paramref name="maxEvents"/> and, past the first event, at most <paramref name="maxBytes"/> as sent
    /// (<see cref="JournalEvent.SentSize"/>) and <see cref="JournalEvent.MaxHeldBytesPerBatch"/> held.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<List<JournalEvent>> ReadAsync(
        string topic, long after, long through, int maxEvents, int maxBytes, CancellationToken cancellationToken = default) =>
        (await ReadPageAsync(topic, after, through, maxEvents, maxBytes, cancellationToken)).Events;

    /// <summary>
    /// <see cref="ReadAsync"/>, saying whether the page may have stopped short of <paramref name="through"/>: it holds
    /// <paramref name="maxEvents"/> events, or was cut by bytes.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL cannot answer right now.</exception>
    public async Task<JournalPage> ReadPageAsync(
        string topic, long after, long through, int maxEvents, int maxBytes, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadEventsAsync(topic, after, through, maxEvents, maxBytes, cancellationToken);
        }
        catch (NpgsqlException e) when (DatabaseUnavailableException.Means(e))
        {
            throw new DatabaseUnavailableException(e);
        }
    }

    private async Task<JournalPage> ReadEventsAsync(
        string topic, long after, long through, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var command = dataSource.CreateCommand(PageQuery);
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(through);
        command.Parameters.AddWithValue(maxEvents);
        command.Parameters.AddWithValue((long)JournalEvent.MaxHeldBytesPerBatch);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<JournalEvent>();
        var (sent, held, cut) = (0, 0, false);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.GetBoolean(9))
            {
                // Past the page's bound on stored bytes: PostgreSQL sent no payload for it.
                cut = true;
                break;
            }
            var payload = reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5);
            var journalEvent = new JournalEvent(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                payload,
                PayloadHash.OfStored(reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6), payload),
                reader.GetBoolean(7),
                reader.GetFieldValue<DateTimeOffset>(8));
            (sent, held) = (sent + journalEvent.SentSize, held + journalEvent.Size);
            if (events.Count > 0 && (sent > maxBytes || held > JournalEvent.MaxHeldBytesPerBatch))
            {
                cut = true;
                break;
            }
            events.Add(journalEvent);
        }
        metrics?.ReplayBatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return new JournalPage(events, cut || events.Count == maxEvents);
    }
}
