using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Relay.Tests;

/// <summary>Topics of a test's own, named after it, so that tests sharing the database never see each other's events.</summary>
public static partial class TestTopics
{
    private static int s_counter;

    /// <summary>A fresh topic name derived from the calling test, e.g. <c>test.publish_twice_noop_7</c>.</summary>
    public static string Name([CallerMemberName] string test = "")
    {
        var slug = NonTopicCharacters().Replace(test.ToLowerInvariant(), "_").Trim('_');
        var suffix = "_" + Interlocked.Increment(ref s_counter);
        return "test." + slug[..Math.Min(slug.Length, 100)] + suffix;
    }

    /// <summary>Creates a fresh topic through <c>relay.create_topic</c> and returns its name.</summary>
    public static async Task<string> CreateAsync(
        string payloadMode = "inline", bool requireOrg = false, string retention = "7 days", [CallerMemberName] string test = "")
    {
        var topic = Name(test);
        await using var command = TestDatabase.DataSource.CreateCommand("SELECT relay.create_topic($1, $2, $3::interval, $4)");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue(payloadMode);
        command.Parameters.AddWithValue(retention);
        command.Parameters.AddWithValue(requireOrg);
        await command.ExecuteNonQueryAsync();
        return topic;
    }

    /// <summary>
    /// Creates a fresh pointer-mode topic and an application table attached to it with <c>relay.attach</c>
    /// (columns doc_key, org_id, doc_version, payload).
    /// </summary>
    public static async Task<(string Topic, string Table)> AttachNewTableAsync(bool requireOrg = true, [CallerMemberName] string test = "")
    {
        var topic = await CreateAsync(payloadMode: "pointer", requireOrg: requireOrg, test: test);
        // Short: PostgreSQL truncates identifiers at 63 bytes, and test names are long.
        var table = $"app_{Interlocked.Increment(ref s_counter)}";
        await using var create = TestDatabase.DataSource.CreateCommand(
            $"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await create.ExecuteNonQueryAsync();
        await using var attach = TestDatabase.DataSource.CreateCommand("SELECT relay.attach($1, $2::regclass)");
        attach.Parameters.AddWithValue(topic);
        attach.Parameters.AddWithValue(table);
        await attach.ExecuteNonQueryAsync();
        return (topic, table);
    }

    /// <summary>
    /// Prefixes every <c>"doc_key":"…"</c> of a <c>publish_batch</c> array with the topic: doc_keys are unique across
    /// the whole database, and the tests share one.
    /// </summary>
    public static string KeyedBy(this string docs, string topic) =>
        docs.Replace("\"doc_key\":\"", $"\"doc_key\":\"{topic}:", StringComparison.Ordinal);

    [GeneratedRegex("[^a-z0-9_]+")]
    private static partial Regex NonTopicCharacters();
}
