using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Schema;

namespace Relay.Tests.Schema;

/// <summary>
/// <c>relay.list_documents</c> and <c>relay.read_documents</c> select from one read-model selection
/// (<c>relay.read_model_query</c>): on a database migrated from before it, a page and a read of every key on it agree,
/// across organisations, tombstones and an attached table.
/// </summary>
public sealed class ReadModelSelectionTests
{
    private static readonly string?[] s_orgs = ["org-a", "org-b", null];

    [Test]
    public async Task UpgradedDatabase_listThenReadEveryListedKey_agree()
    {
        var name = $"relay_upgrade_{Guid.NewGuid():N}";
        await Sql.ExecuteAsync($"CREATE DATABASE {name}");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Database = name, Pooling = false };
            await using var dataSource = NpgsqlDataSource.Create(connectionString.ConnectionString);
            var migrator = new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance);
            await migrator.MigrateAsync();
            await WriteDocumentsAsync(dataSource);
            // As before the shared selection: neither of its functions, and list and read recorded at older versions.
            await Sql.RowsAsync(dataSource, $"""
                SELECT set_config('relay.migrator_generation', '{SchemaMigrator.Generation}', true);
                DROP FUNCTION relay.read_model_query(text);
                DROP FUNCTION relay.topic_documents(text);
                DELETE FROM relay.schema_migrations WHERE script IN ('functions/topic_documents.sql', 'functions/read_model_query.sql');
                UPDATE relay.schema_migrations SET checksum = 'before' WHERE script IN ('functions/list_documents.sql', 'functions/read_documents.sql');
                """);

            Assert.That(await migrator.MigrateAsync(),
                Is.EqualTo(new[] { "functions/topic_documents.sql", "functions/read_model_query.sql", "functions/read_documents.sql", "functions/list_documents.sql" }));
            foreach (var topic in new[] { "test.inline", "test.attached" })
            {
                foreach (var org in s_orgs)
                {
                    await AssertListAndReadAgreeAsync(dataSource, topic, org);
                }
            }
            var hidden = await Sql.RowsAsync(dataSource,
                "SELECT doc_key, doc_version, deleted FROM relay.read_documents('test.inline', ARRAY['gone', 'theirs', 'never']) ORDER BY doc_key");
            Assert.That(hidden, Is.EqualTo(new[]
            {
                new object?[] { "gone", 2L, true },
                new object?[] { "never", null, false },
                new object?[] { "theirs", 1L, false },
            }));
        }
        finally
        {
            await Sql.ExecuteAsync($"DROP DATABASE {name} WITH (FORCE)");
        }
    }

    [Test]
    public async Task ListAndRead_keepTheirPublicSignatures()
    {
        var signatures = await Sql.RowsAsync("""
            SELECT p.proname::text, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid)
              FROM pg_proc p WHERE p.pronamespace = 'relay'::regnamespace AND p.proname IN ('list_documents', 'read_documents')
             ORDER BY p.proname
            """);

        Assert.That(signatures, Is.EqualTo(new[]
        {
            new object?[] { "list_documents", "p_topic text, p_org_id text, p_after text, p_limit integer",
                "TABLE(doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea)" },
            new object?[] { "read_documents", "p_topic text, p_doc_keys text[]",
                "TABLE(doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea, deleted boolean)" },
        }));
    }

    [Test]
    public async Task ListAndRead_unknownTopic_raiseRL001()
    {
        await Sql.FailsAsync("RL001", "SELECT * FROM relay.list_documents('test.no_such_topic', 'org-a', '', 10)");
        await Sql.FailsAsync("RL001", "SELECT * FROM relay.read_documents('test.no_such_topic', ARRAY['k'])");
    }

    /// <summary>Every document the organisation may see, once in relay.documents and once in an attached table.</summary>
    private static Task WriteDocumentsAsync(NpgsqlDataSource dataSource) => Sql.RowsAsync(dataSource, """
        SELECT relay.create_topic('test.inline', 'inline', '7 days', false);
        SELECT relay.publish('test.inline', 'mine', '{"n": 1, "big": 155627012252807600}', 'org-a');
        SELECT relay.publish('test.inline', 'mine', '{"n": 2}', 'org-a');
        SELECT relay.publish('test.inline', 'theirs', '{"n": 3}', 'org-b');
        SELECT relay.publish('test.inline', 'everyone', '{"n": 4}');
        SELECT relay.publish('test.inline', 'gone', '{"n": 5}', 'org-a');
        SELECT relay.delete('test.inline', 'gone');
        SELECT relay.create_topic('test.attached', 'pointer', '7 days', false);
        CREATE TABLE app_documents (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb);
        SELECT relay.attach('test.attached', 'app_documents'::regclass);
        INSERT INTO app_documents VALUES ('a1', 'org-a', 3, '{"a": 1}'), ('b1', 'org-b', 1, '{"b": 1}'), ('g1', NULL, 7, '{"g": 1}'),
                                         ('dropped', 'org-a', 1, '{}');
        DELETE FROM app_documents WHERE doc_key = 'dropped';
        """);

    private static async Task AssertListAndReadAgreeAsync(NpgsqlDataSource dataSource, string topic, string? org)
    {
        var listed = await Sql.RowsAsync(dataSource,
            "SELECT doc_key, doc_version, org_id, payload::text, payload_hash FROM relay.list_documents($1, $2, '', 1000)", topic, org);
        var keys = listed.Select(row => (string)row[0]!).ToArray();
        var read = await Sql.RowsAsync(dataSource,
            "SELECT doc_key, doc_version, org_id, payload::text, payload_hash, deleted FROM relay.read_documents($1, $2) ORDER BY doc_key", topic, keys);

        Assert.That(listed, Is.Not.Empty, $"{topic} as {org ?? "no organisation"}");
        Assert.That(listed.Select(row => row[2]), Is.All.Null.Or.EqualTo(org), "only its own and global documents are listed");
        Assert.That(read.Select(row => row[..5]), Is.EqualTo(listed), $"{topic} as {org ?? "no organisation"}: read agrees with list");
        Assert.That(read.Select(row => row[5]), Is.All.EqualTo(false), "a listed document is live");
    }
}
