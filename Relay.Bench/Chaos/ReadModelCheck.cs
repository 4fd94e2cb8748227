using Relay.Client;

namespace Relay.Bench.Chaos;

/// <summary>
/// The read model (<c>relay.documents</c>) of one organisation, and the differences between it and a client's cache:
/// every live document must be held at its version and hash; a deleted one may be absent or a tombstone of its version;
/// nothing else may be held.
/// </summary>
internal sealed class ReadModelCheck(IReadOnlyDictionary<(string Topic, string DocKey), (long Version, bool Deleted, byte[]? Hash, string? Org)> documents)
{
    public static async Task<ReadModelCheck> ReadAsync(ChaosDatabase database)
    {
        await using var command = database.DataSource.CreateCommand("SELECT topic, doc_key, doc_version, deleted, relay.payload_hash(payload), org_id FROM relay.documents");
        await using var reader = await command.ExecuteReaderAsync();
        var documents = new Dictionary<(string, string), (long, bool, byte[]?, string?)>();
        while (await reader.ReadAsync())
        {
            documents[(reader.GetString(0), reader.GetString(1))] =
                (reader.GetInt64(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : (byte[])reader[4], reader.IsDBNull(5) ? null : reader.GetString(5));
        }
        return new ReadModelCheck(documents);
    }

    /// <summary>Documents of <paramref name="org"/> in <paramref name="topic"/> (live or deleted).</summary>
    public int Count(string topic, string org) => documents.Count(d => d.Key.Topic == topic && d.Value.Org == org);

    public IEnumerable<string> Differences(string topic, string org, IReadOnlyDictionary<string, CachedDocument> cache)
    {
        foreach (var ((documentTopic, key), (version, deleted, hash, documentOrg)) in documents)
        {
            if (documentTopic != topic || documentOrg != org)
            {
                continue;
            }
            var held = cache.GetValueOrDefault(key);
            if (deleted ? held is not null && (!held.Deleted || held.DocVersion != version)
                : held is null || held.Deleted || held.DocVersion != version || !held.PayloadHash.Span.SequenceEqual(hash))
            {
                yield return $"{topic} {key}: v{version}{(deleted ? " deleted" : "")} in the database, held as {(held is null ? "nothing" : $"v{held.DocVersion}{(held.Deleted ? " deleted" : "")}")}";
            }
        }
        foreach (var key in cache.Keys.Where(key => !documents.TryGetValue((topic, key), out var document) || document.Org != org))
        {
            yield return $"{topic} {key}: held but not in the database for {org}";
        }
    }
}
