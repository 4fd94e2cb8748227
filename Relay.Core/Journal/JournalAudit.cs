using System.Text;
using Npgsql;
using Relay.Protocol.Hashing;

namespace Relay.Core.Journal;

/// <summary>
/// Checks what the relay relies on (CONTRACT §5, <c>relay audit</c>): each topic's retained journal is gap-free up to
/// its head; every payload's stored hash is the SHA-256 of its canonical JSON, recomputed here in C#; and the read model
/// of <c>publish</c> agrees with each document's newest journal event; an attached table's key and org columns can
/// still tell keys and organisations apart; and each attached table is still wired to its topic alone.
/// </summary>
public static class JournalAudit
{
    /// <summary>The problems found, one line each; empty when all is well.</summary>
    public static async Task<IReadOnlyList<string>> RunAsync(NpgsqlDataSource dataSource, string? topic, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        await CheckGapsAsync(dataSource, topic, problems, cancellationToken);
        await CheckHashesAsync(dataSource, topic, problems, cancellationToken);
        await CheckReadModelAsync(dataSource, topic, problems, cancellationToken);
        await CheckAttachedColumnsAsync(dataSource, topic, problems, cancellationToken);
        await CheckAttachedWiringAsync(dataSource, topic, problems, cancellationToken);
        return problems;
    }

    /// <summary>
    /// An attached table's changes reach its topic only through its enabled <c>relay_journal</c> trigger, made by
    /// relay.attach with the topic and the columns the relay reads; and a trigger journaling into a topic whose read
    /// model is another table (or none) sends rows the relay reads back from the wrong table, as deletions. Both can be
    /// undone after the attach (a disabled trigger, a table attached before attach refused a second wiring). The relay
    /// reads the table as its own role, and rows a row-level security policy hides from that role look deleted: reported
    /// when the role running the audit would not see every row (run it as the relay's role).
    /// </summary>
    private static async Task CheckAttachedWiringAsync(NpgsqlDataSource dataSource, string? topic, List<string> problems, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH journal_triggers AS (
                SELECT g.tgrelid::regclass AS tbl, g.tgenabled <> 'D' AS enabled,
                       string_to_array(rtrim(encode(g.tgargs, 'escape'), '\000'), '\000') AS args
                  FROM pg_trigger g
                 WHERE g.tgfoid = 'relay.journal_read_model_change'::regproc)
            SELECT t.topic, CASE WHEN NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.read_model)
                   THEN format('its read model, the table of oid %s, was dropped: clients keep its documents and hydration fails; drop the topic or attach a table (docs/sql.md, "Detaching a table")', t.read_model::oid)
                   ELSE format('table %s is its read model, but no enabled relay_journal trigger journals its changes into it: clients hear of none; attach it again (relay.attach)', t.read_model) END
              FROM relay.topics t
             WHERE t.read_model IS NOT NULL AND ($1::text IS NULL OR t.topic = $1)
               AND NOT EXISTS (
                   SELECT FROM journal_triggers j
                    WHERE j.tbl = t.read_model AND j.enabled AND j.args = ARRAY[t.topic,
                          t.read_model_columns ->> 'doc_key', coalesce(t.read_model_columns ->> 'org_id', ''),
                          t.read_model_columns ->> 'doc_version', t.read_model_columns ->> 'payload'])
            UNION ALL
            SELECT j.args[1], format('table %s journals into it, but its read model is %s: the relay reads those rows from there, so they go out as deletions; detach the table (docs/sql.md, "Detaching a table")', j.tbl, coalesce(t.read_model::text, 'no table'))
              FROM journal_triggers j LEFT JOIN relay.topics t ON t.topic = j.args[1]
             WHERE t.read_model IS DISTINCT FROM j.tbl AND ($1::text IS NULL OR j.args[1] = $1)
            UNION ALL
            SELECT t.topic, format('table %s has row-level security, and the role %I running this audit does not see every row: rows a policy hides from the relay''s role go out as deletions; give that role BYPASSRLS (docs/deployment.md, Rights)', t.read_model, current_user)
              FROM relay.topics t JOIN pg_class c ON c.oid = t.read_model
             WHERE c.relrowsecurity AND ($1::text IS NULL OR t.topic = $1)
               AND NOT (SELECT r.rolbypassrls OR r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
               AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            problems.Add($"{reader.GetString(0)}: {reader.GetString(1)}");
        }
    }

    /// <summary>
    /// An attached table's doc_key and org columns, which relay.attach checked, may have been altered since into ones
    /// that cannot tell keys or organisations apart (<c>relay.attached_column_problem</c>).
    /// </summary>
    private static async Task CheckAttachedColumnsAsync(NpgsqlDataSource dataSource, string? topic, List<string> problems, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT t.topic, p.problem
              FROM relay.topics t
             CROSS JOIN LATERAL (VALUES (t.read_model_columns ->> 'doc_key'), (t.read_model_columns ->> 'org_id')) c(name)
             CROSS JOIN LATERAL (SELECT relay.attached_column_problem(t.read_model, c.name) AS problem) p
             WHERE t.read_model IS NOT NULL AND p.problem IS NOT NULL AND ($1::text IS NULL OR t.topic = $1)
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            problems.Add($"{reader.GetString(0)}: {reader.GetString(1)}; until then its documents may reach the wrong organisation or none (docs/sql.md)");
        }
    }

    private static async Task CheckGapsAsync(NpgsqlDataSource dataSource, string? topic, List<string> problems, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT t.topic, t.retained_after, t.head_watermark, count(e.watermark), min(e.watermark), max(e.watermark)
              FROM relay.topics t LEFT JOIN relay.stream_events e ON e.topic = t.topic AND e.watermark > t.retained_after
             WHERE $1::text IS NULL OR t.topic = $1
             GROUP BY t.topic, t.retained_after, t.head_watermark
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        var gaps = new List<(string Topic, long RetainedAfter, long Head, long Count)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (name, retained, head, count) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
                if (count != head - retained || (count > 0 && (reader.GetInt64(4) != retained + 1 || reader.GetInt64(5) != head)))
                {
                    gaps.Add((name, retained, head, count));
                }
            }
        }
        foreach (var (name, retained, head, count) in gaps)
        {
            // The watermark to look for in backups and logs: the first one at or below the head that the journal lacks.
            await using var missing = dataSource.CreateCommand("""
                SELECT min(c.w) FROM (SELECT $2::bigint + 1 AS w UNION ALL
                                      SELECT e.watermark + 1 FROM relay.stream_events e WHERE e.topic = $1 AND e.watermark > $2) c
                 WHERE c.w <= $3 AND NOT EXISTS (SELECT FROM relay.stream_events x WHERE x.topic = $1 AND x.watermark = c.w)
                """);
            missing.Parameters.AddWithValue(name);
            missing.Parameters.AddWithValue(retained);
            missing.Parameters.AddWithValue(head);
            var first = await missing.ExecuteScalarAsync(cancellationToken);
            problems.Add($"{name}: the journal after {retained} holds {count} events, not the {head - retained} up to the head {head}" +
                (first is long watermark ? $"; the first missing is {watermark}" : ""));
        }
    }

    private static async Task CheckHashesAsync(NpgsqlDataSource dataSource, string? topic, List<string> problems, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT 'journal ' || topic || '@' || watermark, payload::text, payload_hash FROM relay.stream_events
             WHERE payload IS NOT NULL AND ($1::text IS NULL OR topic = $1)
            UNION ALL
            SELECT 'document ' || doc_key, payload::text, payload_hash FROM relay.documents
             WHERE payload IS NOT NULL AND ($1::text IS NULL OR topic = $1)
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // The relay hashes every payload it delivers; where the row also stores a hash (written before the hash
            // left the write path), the two must agree.
            byte[] expected;
            try
            {
                expected = PayloadHash.Compute(Encoding.UTF8.GetBytes(reader.GetString(1)));
            }
            catch (CanonicalJsonException e)
            {
                problems.Add($"{reader.GetString(0)}: the payload has no canonical JSON ({e.Message})");
                continue;
            }
            if (!reader.IsDBNull(2) && !reader.GetFieldValue<byte[]>(2).AsSpan().SequenceEqual(expected))
            {
                problems.Add($"{reader.GetString(0)}: payload_hash is not the SHA-256 of the payload's canonical JSON");
            }
        }
    }

    private static async Task CheckReadModelAsync(NpgsqlDataSource dataSource, string? topic, List<string> problems, CancellationToken cancellationToken)
    {
        // Only documents whose newest event is still retained can be compared.
        await using var command = dataSource.CreateCommand("""
            SELECT d.doc_key, d.doc_version, d.deleted, d.payload_hash, e.doc_version, e.tombstone, e.payload_hash,
                   e.payload IS NULL OR e.payload = d.payload
              FROM relay.documents d
              JOIN relay.topics t ON t.topic = d.topic AND t.read_model IS NULL
              LEFT JOIN relay.stream_events e ON e.topic = d.topic AND e.watermark = d.watermark
             WHERE ($1::text IS NULL OR d.topic = $1) AND d.watermark > t.retained_after
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            if (reader.IsDBNull(4))
            {
                problems.Add($"document {key}: no journal event at its watermark");
            }
            else if (Differences(reader) is { Count: > 0 } differences)
            {
                problems.Add($"document {key}: the read model disagrees with its newest journal event: {string.Join(", ", differences)}");
            }
        }
    }

    /// <summary>What differs between a document's row and its newest journal event, as the audit's reader has them.</summary>
    private static List<string> Differences(NpgsqlDataReader reader)
    {
        var differences = new List<string>();
        if (reader.GetInt64(1) != reader.GetInt64(4))
        {
            differences.Add($"doc_version {reader.GetInt64(1)} against the event's {reader.GetInt64(4)}");
        }
        if (reader.GetBoolean(2) != reader.GetBoolean(5))
        {
            differences.Add(reader.GetBoolean(2) ? "deleted, but the event is not a tombstone" : "not deleted, but the event is a tombstone");
        }
        if (!reader.GetBoolean(7))
        {
            differences.Add("another payload");
        }
        if (!Equal(reader, 3, 6))
        {
            differences.Add("another payload_hash");
        }
        return differences;
    }

    /// <summary>Two stored hashes agree, or one of them is not stored.</summary>
    private static bool Equal(NpgsqlDataReader reader, int left, int right) =>
        reader.IsDBNull(left) || reader.IsDBNull(right)
        || reader.GetFieldValue<byte[]>(left).AsSpan().SequenceEqual(reader.GetFieldValue<byte[]>(right));
}
