using System.Text;
using System.Text.Json;

namespace Relay.Client;

/// <summary>
/// The JSON form of <see cref="FileWatermarkStore"/>'s file: the identity the state belongs to, and watermarks, epochs
/// and documents per topic.
/// </summary>
internal static class PersistedState
{
    public static void Write(Utf8JsonWriter json, SyncIdentity? identity, IReadOnlyDictionary<string, ResumePoint> points, DocumentCache cache)
    {
        json.WriteStartObject();
        if (identity is not null)
        {
            json.WriteStartObject("identity");
            json.WriteString("org", identity.Org);
            json.WriteString("subject", identity.Subject);
            json.WriteEndObject();
        }
        json.WriteStartObject("watermarks");
        foreach (var (topic, point) in points)
        {
            json.WriteNumber(topic, point.Watermark);
        }
        json.WriteEndObject();
        json.WriteStartObject("epochs");
        foreach (var (topic, point) in points.Where(p => p.Value.Epoch.Length > 0))
        {
            json.WriteString(topic, point.Epoch);
        }
        json.WriteEndObject();
        json.WriteStartObject("documents");
        foreach (var topic in cache.Topics)
        {
            json.WriteStartArray(topic);
            foreach (var document in cache.Entries(topic).Values)
            {
                json.WriteStartObject();
                json.WriteString("docKey", document.DocKey);
                json.WriteNumber("docVersion", document.DocVersion);
                json.WriteBoolean("deleted", document.Deleted);
                // Where an entry not yet confirmed by a stored watermark was applied: a tombstone is kept until then, and a
                // change past the file's watermark is raised again when the relay sends it again.
                if (cache.UnconfirmedWatermark(topic, document.DocKey) is { } appliedAt)
                {
                    json.WriteNumber("watermark", appliedAt);
                }
                if (!document.Deleted)
                {
                    json.WritePropertyName("payload");
                    json.WriteRawValue(document.Payload.Span, skipInputValidation: true);
                    json.WriteBase64String("payloadHash", document.PayloadHash.Span);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// The identity the state in <paramref name="root"/> was written under, or null when it records none (an older
    /// client wrote it).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a saved state at all.</exception>
    public static SyncIdentity? ReadIdentity(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path} is not a saved sync state (a JSON object): delete it to sync from scratch");
        }
        return root.TryGetProperty("identity", out var identity) && identity.ValueKind == JsonValueKind.Object
            && identity.TryGetProperty("org", out var org) && org.ValueKind == JsonValueKind.String
            && identity.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.String
            ? new SyncIdentity(org.GetString()!, subject.GetString()!)
            : null;
    }

    /// <summary>Restores the documents into <paramref name="cache"/> and returns the resume points.</summary>
    /// <exception cref="InvalidDataException">The state lacks its watermarks or documents (the file was damaged).</exception>
    public static Dictionary<string, ResumePoint> Read(JsonElement root, DocumentCache cache, string path)
    {
        if (!root.TryGetProperty("watermarks", out var watermarks) || !root.TryGetProperty("documents", out var documents))
        {
            throw new InvalidDataException($"{path} holds no watermarks and documents: delete it to sync from scratch");
        }
        // Everything is read before anything is restored: a damaged file leaves the cache as it was.
        var topics = documents.EnumerateObject().Select(topic => (
            topic.Name,
            Documents: topic.Value.EnumerateArray().Select(ReadDocument).ToList(),
            Unconfirmed: topic.Value.EnumerateArray().Where(document => document.TryGetProperty("watermark", out _))
                .Select(document => (DocKey: document.GetProperty("docKey").GetString()!, Watermark: document.GetProperty("watermark").GetInt64()))
                .ToList())).ToList();
        if (topics.FirstOrDefault(topic => topic.Documents.DistinctBy(document => document.DocKey).Count() != topic.Documents.Count) is { Name: { } repeated })
        {
            throw new JsonException($"topic {repeated} lists a docKey twice");
        }
        var epochs = root.TryGetProperty("epochs", out var stored) ? stored : default;
        var points = watermarks.EnumerateObject().ToDictionary(
            topic => topic.Name,
            topic => new ResumePoint(topic.Value.GetInt64(),
                epochs.ValueKind == JsonValueKind.Object && epochs.TryGetProperty(topic.Name, out var epoch) ? epoch.GetString() ?? "" : ""),
            StringComparer.Ordinal);
        foreach (var (topic, topicDocuments, unconfirmed) in topics)
        {
            cache.Replace(topic, topicDocuments);
            unconfirmed.ForEach(entry => cache.RestoreUnconfirmed(topic, entry.DocKey, entry.Watermark));
        }
        return points;
    }

    private static CachedDocument ReadDocument(JsonElement document)
    {
        var docKey = document.GetProperty("docKey").GetString() ?? throw new JsonException("a document's docKey is null");
        var docVersion = document.GetProperty("docVersion").GetInt64();
        return document.GetProperty("deleted").GetBoolean()
            ? CachedDocument.Tombstone(docKey, docVersion)
            : new CachedDocument(docKey, docVersion, Encoding.UTF8.GetBytes(document.GetProperty("payload").GetRawText()),
                document.GetProperty("payloadHash").GetBytesFromBase64(), Deleted: false);
    }
}
