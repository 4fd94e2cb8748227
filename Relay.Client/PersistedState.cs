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
                if (document.Deleted && cache.TombstoneWatermark(topic, document.DocKey) is { } deletedAt)
                {
                    json.WriteNumber("watermark", deletedAt);
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
        foreach (var topic in documents.EnumerateObject())
        {
            cache.Replace(topic.Name, topic.Value.EnumerateArray().Select(ReadDocument));
            foreach (var tombstone in topic.Value.EnumerateArray().Where(document => document.TryGetProperty("watermark", out _)))
            {
                cache.RestoreTombstoneWatermark(topic.Name, tombstone.GetProperty("docKey").GetString()!, tombstone.GetProperty("watermark").GetInt64());
            }
        }
        var epochs = root.TryGetProperty("epochs", out var stored) ? stored : default;
        return watermarks.EnumerateObject().ToDictionary(
            topic => topic.Name,
            topic => new ResumePoint(topic.Value.GetInt64(),
                epochs.ValueKind == JsonValueKind.Object && epochs.TryGetProperty(topic.Name, out var epoch) ? epoch.GetString() ?? "" : ""),
            StringComparer.Ordinal);
    }

    private static CachedDocument ReadDocument(JsonElement document)
    {
        var docKey = document.GetProperty("docKey").GetString()!;
        var docVersion = document.GetProperty("docVersion").GetInt64();
        return document.GetProperty("deleted").GetBoolean()
            ? CachedDocument.Tombstone(docKey, docVersion)
            : new CachedDocument(docKey, docVersion, Encoding.UTF8.GetBytes(document.GetProperty("payload").GetRawText()),
                document.GetProperty("payloadHash").GetBytesFromBase64(), Deleted: false);
    }
}
