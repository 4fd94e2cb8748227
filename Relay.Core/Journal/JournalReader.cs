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
    private const string EventColumns =
        "topic, watermark, doc_key, doc_version, org_id, convert_to(payload::text, 'UTF8'), payload_hash, tombstone, inserted_at";

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

    private async Task<List<JournalEvent>> ReadEventsAsync(
        string topic, long after, long through, int maxEvents, int maxBytes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var command = dataSource.CreateCommand(
            $"SELECT {EventColumns} FROM relay.stream_events WHERE topic = $1 AND watermark > $2 AND watermark <= $3 ORDER BY watermark LIMIT $4");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(through);
        command.Parameters.AddWithValue(maxEvents);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<JournalEvent>();
        var (sent, held) = (0, 0);
        while (await reader.ReadAsync(cancellationToken))
        {
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
                break;
            }
            events.Add(journalEvent);
        }
        metrics?.ReplayBatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return events;
    }
}
