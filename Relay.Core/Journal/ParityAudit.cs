using System.Text;
using System.Text.Json;
using Npgsql;
using Relay.Protocol.Hashing;

namespace Relay.Core.Journal;

/// <summary>
/// The dual-publish parity check (<c>relay audit --compare export.jsonl</c>): another system's export, one JSON object a
/// line with <c>doc_key</c>, <c>doc_version</c> and <c>payload</c>, against the live documents of <c>relay.documents</c>.
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

    private static async Task<Dictionary<string, (long DocVersion, byte[] Hash)>> ReadDocumentsAsync(
        NpgsqlDataSource dataSource, string? topic, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT doc_key, doc_version, payload_hash, payload::text FROM relay.documents
             WHERE NOT deleted AND payload IS NOT NULL AND ($1::text IS NULL OR topic = $1)
            """);
        command.Parameters.AddWithValue((object?)topic ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var documents = new Dictionary<string, (long, byte[])>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var stored = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2);
            documents[reader.GetString(0)] = (reader.GetInt64(1), stored ?? PayloadHash.Compute(Encoding.UTF8.GetBytes(reader.GetString(3))));
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
