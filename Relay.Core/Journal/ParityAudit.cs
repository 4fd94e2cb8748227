using System.Text;
using System.Text.Json;
using Npgsql;
using Relay.Protocol.Hashing;

namespace Relay.Core.Journal;

/// <summary>
/// The dual-publish parity check (<c>relay audit --compare export.jsonl</c>): another system's export, one JSON object a
/// line with <c>doc_key</c>, <c>doc_version</c> and <c>payload</c>, against the live documents of each topic's read model:
/// <c>relay.documents</c>, or the table attached to it (<c>relay.attach</c>).
/// Payloads are compared by the SHA-256 of their canonical JSON, so key order and number spelling do not matter.
/// </summary>
public static class ParityAudit
{
    /// <summary>Compares; each difference is reported as one line, then the counts are returned.</summary>
    /// <param name="dataSource">The relay's database.</param>
    /// <param name="export">The other system's export, JSON lines.</param>
    /// <param name="topic">Compare only this topic's documents; null for every topic.</param>
    /// <param name="report">Receives one line per difference.</param>
    /// <param name="cancellationToken">Cancels the comparison.</param>
    /// <exception cref="ParityAuditException">The comparison cannot be made: no such topic, or a doc_key in two topics.</exception>
    public static async Task<ParityReport> RunAsync(
        NpgsqlDataSource dataSource, TextReader export, string? topic, Func<string, Task> report, CancellationToken cancellationToken = default)
    {
        var relay = await ReadDocumentsAsync(dataSource, topic, cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var counts = new ParityReport();
        var number = 0;
        while (await export.ReadLineAsync(cancellationToken) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (Parse(line) is not { } exported)
            {
                counts = counts with { Malformed = counts.Malformed + 1 };
                await report($"line {number}: not a JSON object with a string doc_key, an integer doc_version and a payload");
                continue;
            }
            counts = counts with { Exported = counts.Exported + 1 };
            if (!seen.Add(exported.DocKey))
            {
                counts = counts with { Malformed = counts.Malformed + 1 };
                await report($"line {number}: {exported.DocKey} appears twice in the export");
                continue;
            }
            if (!relay.TryGetValue(exported.DocKey, out var document))
            {
                counts = counts with { MissingFromRelay = counts.MissingFromRelay + 1 };
                await report($"{exported.DocKey}: missing from the relay (export has v{exported.DocVersion})");
            }
            else if (document.DocVersion != exported.DocVersion)
            {
                counts = counts with { VersionMismatches = counts.VersionMismatches + 1 };
                await report($"{exported.DocKey}: the relay has v{document.DocVersion}, the export v{exported.DocVersion}");
            }
            else if (!document.Hash.AsSpan().SequenceEqual(exported.Hash))
            {
                counts = counts with { PayloadMismatches = counts.PayloadMismatches + 1 };
                await report($"{exported.DocKey}: v{document.DocVersion} has another payload in the relay than in the export");
            }
            else
            {
                counts = counts with { Matching = counts.Matching + 1 };
            }
        }
        foreach (var key in relay.Keys.Where(key => !seen.Contains(key)).Order(StringComparer.Ordinal))
        {
            counts = counts with { MissingFromExport = counts.MissingFromExport + 1 };
            await report($"{key}: missing from the export (the relay has v{relay[key].DocVersion})");
        }
        return counts with { InRelay = relay.Count };
    }

    /// <summary>
    /// The live documents of <paramref name="topic"/>, or of every topic, each from its read model
    /// (<c>relay.read_model_query</c>): <c>relay.documents</c>, or the table attached to the topic.
    /// </summary>
    /// <exception cref="ParityAuditException">Without a topic, a doc_key is in several topics: the export cannot say which.</exception>
    private static async Task<Dictionary<string, (long DocVersion, byte[] Hash)>> ReadDocumentsAsync(
        NpgsqlDataSource dataSource, string? topic, CancellationToken cancellationToken)
    {
        var topics = new List<(string Topic, string ReadModel)>();
        await using (var list = dataSource.CreateCommand(
            "SELECT topic, relay.read_model_query(topic) FROM relay.topics WHERE $1::text IS NULL OR topic = $1 ORDER BY topic"))
        {
            list.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
            await using var reader = await list.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                topics.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        if (topic is not null && topics.Count == 0)
        {
            throw new ParityAuditException($"no topic {topic}: relay status lists the topics");
        }
        var documents = new Dictionary<string, (long, byte[])>(StringComparer.Ordinal);
        var topicOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, readModel) in topics)
        {
            await using var command = dataSource.CreateCommand(
                $"SELECT m.doc_key, m.doc_version, m.payload_hash, m.payload::text FROM ({readModel}) m WHERE NOT m.deleted AND m.payload IS NOT NULL");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var docKey = reader.GetString(0);
                if (!topicOf.TryAdd(docKey, name))
                {
                    throw new ParityAuditException(
                        $"{docKey} is a document of {topicOf[docKey]} and of {name}, and the export does not say which: compare one topic at a time with --topic");
                }
                var stored = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2);
                documents[docKey] = (reader.GetInt64(1), stored ?? PayloadHash.Compute(Encoding.UTF8.GetBytes(reader.GetString(3))));
            }
        }
        return documents;
    }

    private static (string DocKey, long DocVersion, byte[] Hash)? Parse(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("doc_key", out var key) && key.ValueKind == JsonValueKind.String
                && root.TryGetProperty("doc_version", out var version) && version.TryGetInt64(out var docVersion)
                && root.TryGetProperty("payload", out var payload) && payload.ValueKind != JsonValueKind.Null)
            {
                return (key.GetString()!, docVersion, PayloadHash.Compute(Encoding.UTF8.GetBytes(payload.GetRawText())));
            }
        }
        catch (Exception e) when (e is JsonException or CanonicalJsonException)
        {
            // Reported by the caller as a malformed line.
        }
        return null;
    }
}
