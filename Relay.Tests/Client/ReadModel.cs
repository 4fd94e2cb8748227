using Npgsql;
using Relay.Client;

namespace Relay.Tests.Client;

/// <summary>Compares a client's cache with <c>relay.documents</c>, the database's read model.</summary>
public static class ReadModel
{
    /// <summary>
    /// The differences between <paramref name="cache"/>'s entries of <paramref name="topic"/> and the read model: every live
    /// document must be held at its version and hash; a deleted one may be absent or a tombstone of its version. The read model
    /// is the test database's, or <paramref name="dataSource"/>'s.
    /// </summary>
    public static async Task<List<string>> DifferencesAsync(
        IReadOnlyDictionary<string, CachedDocument> cache, string topic, NpgsqlDataSource? dataSource = null)
    {
        var rows = await Sql.RowsAsync(dataSource ?? TestDatabase.DataSource, "SELECT doc_key, doc_version, deleted, relay.payload_hash(payload) FROM relay.documents WHERE topic = $1", topic);
        var differences = new List<string>();
        var database = rows.ToDictionary(row => (string)row[0]!);
        foreach (var row in rows)
        {
            var (key, version, deleted, hash) = ((string)row[0]!, (long)row[1]!, (bool)row[2]!, row[3] as byte[]);
            var held = cache.GetValueOrDefault(key);
            if (deleted)
            {
                if (held is not null && (!held.Deleted || held.DocVersion != version))
                {
                    differences.Add($"{key}: deleted at {version} in the database, held as v{held.DocVersion} deleted={held.Deleted}");
                }
            }
            else if (held is null || held.Deleted || held.DocVersion != version || !held.PayloadHash.Span.SequenceEqual(hash))
            {
                differences.Add($"{key}: v{version} in the database, held as {(held is null ? "nothing" : $"v{held.DocVersion} deleted={held.Deleted}")}");
            }
        }
        differences.AddRange(cache.Keys.Where(key => !database.ContainsKey(key)).Select(key => $"{key}: held but not in the database"));
        return differences;
    }
}
