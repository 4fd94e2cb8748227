using Npgsql;
using Relay.Core.Topics;

namespace Relay.Host.Diagnostics;

/// <summary>One read of the journal's and the slots' state, for <see cref="DatabaseGauges"/>.</summary>
/// <param name="Topics">Each topic's journal.</param>
/// <param name="Slots">Each replication slot's retained WAL.</param>
/// <param name="Pending">For each topic whose log is behind, the first event it lacks.</param>
/// <param name="JournalInserts">Rows ever inserted into the journal, by PostgreSQL's statistics.</param>
/// <param name="NotifyQueueUsage">The share of PostgreSQL's NOTIFY queue in use (<c>pg_notification_queue_usage()</c>).</param>
internal sealed record DatabaseSnapshot(
    IReadOnlyList<DatabaseSnapshot.TopicRow> Topics,
    IReadOnlyList<DatabaseSnapshot.SlotRow> Slots,
    IReadOnlyList<DatabaseSnapshot.PendingEvent> Pending,
    long JournalInserts,
    double NotifyQueueUsage)
{
    public static readonly DatabaseSnapshot Empty = new([], [], [], 0, 0);

    // The oldest retained event is one primary-key lookup per topic; sizes are shared out by retained rows as in sql/ops/health.sql.
    // The retention is the span relay.prune keeps today (now() - retention, by the calendar): extract(epoch) alone
    // counts a month as 30 days, and the retention alert fired after every 31-day month.
    private const string TopicsSql = """
        SELECT t.topic, t.head_watermark, t.retained_after, extract(epoch FROM now() - (now() - t.retention))::float8,
               (SELECT e.inserted_at FROM relay.stream_events e
                 WHERE e.topic = t.topic AND e.watermark > t.retained_after ORDER BY e.watermark LIMIT 1)
          FROM relay.topics t
        """;

    private const string TotalsSql = """
        SELECT pg_total_relation_size('relay.stream_events'),
               coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = 'relay.stream_events'::regclass), 0),
               pg_notification_queue_usage()
        """;

    private const string SlotsSql = """
        SELECT slot_name,
               pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::float8
          FROM pg_replication_slots WHERE restart_lsn IS NOT NULL
        """;

    private const string PendingSql = """
        SELECT e.topic, e.watermark, e.inserted_at
          FROM unnest($1::text[], $2::bigint[]) AS p(topic, watermark)
          JOIN relay.stream_events e ON e.topic = p.topic AND e.watermark = p.watermark
        """;

    public static async Task<DatabaseSnapshot> ReadAsync(NpgsqlDataSource dataSource, TopicLogs logs, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var topics = new List<(string Topic, long Head, long RetainedAfter, double Retention, DateTimeOffset? OldestAt)>();
        await using (var command = new NpgsqlCommand(TopicsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                topics.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }
        long journalBytes;
        long inserts;
        double notifyQueueUsage;
        await using (var command = new NpgsqlCommand(TotalsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            journalBytes = reader.GetInt64(0);
            inserts = reader.GetInt64(1);
            notifyQueueUsage = reader.GetDouble(2);
        }
        var slots = new List<SlotRow>();
        await using (var command = new NpgsqlCommand(SlotsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                slots.Add(new SlotRow(reader.GetString(0), reader.IsDBNull(1) ? 0 : reader.GetDouble(1)));
            }
        }

        var rows = Math.Max(1, topics.Sum(t => t.Head - t.RetainedAfter));
        var topicRows = topics
            .Select(t => new TopicRow(t.Topic, t.Head, t.RetainedAfter, t.Retention, t.OldestAt, Math.Round((double)journalBytes * (t.Head - t.RetainedAfter) / rows)))
            .ToList();
        return new DatabaseSnapshot(topicRows, slots, await ReadPendingAsync(connection, topicRows, logs, cancellationToken), inserts, notifyQueueUsage);
    }

    /// <summary>For each topic whose log is behind the database, the first event the log lacks, with the time it was written.</summary>
    private static async Task<IReadOnlyList<PendingEvent>> ReadPendingAsync(
        NpgsqlConnection connection, List<TopicRow> topics, TopicLogs logs, CancellationToken cancellationToken)
    {
        var behind = topics
            .Select(t => (t.Topic, Next: Math.Max(logs.Find(t.Topic)?.Head ?? 0, t.RetainedAfter) + 1, t.Head))
            .Where(t => t.Next <= t.Head)
            .ToList();
        var pending = new List<PendingEvent>();
        if (behind.Count == 0)
        {
            return pending;
        }
        await using var command = new NpgsqlCommand(PendingSql, connection);
        command.Parameters.AddWithValue(behind.Select(b => b.Topic).ToArray());
        command.Parameters.AddWithValue(behind.Select(b => b.Next).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new PendingEvent(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }
        return pending;
    }

    internal sealed record TopicRow(string Topic, long Head, long RetainedAfter, double RetentionSeconds, DateTimeOffset? OldestInsertedAt, double Bytes);

    internal sealed record SlotRow(string Name, double RetainedBytes);

    internal sealed record PendingEvent(string Topic, long Watermark, DateTimeOffset InsertedAt);
}
