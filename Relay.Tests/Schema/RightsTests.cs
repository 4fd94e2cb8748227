using Npgsql;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Schema;

/// <summary>The rights docs/deployment.md ("Rights") gives the application's and the relay's roles are the ones they need.</summary>
public sealed class RightsTests
{
    /// <summary>The grants of docs/deployment.md, word for word, to role <c>relay_app_writer</c>.</summary>
    private const string WriterGrants = """
        GRANT USAGE ON SCHEMA relay TO relay_app_writer;
        GRANT EXECUTE ON FUNCTION relay.publish(text, text, jsonb, text, bigint), relay.publish_batch(text, jsonb),
            relay.delete(text, text) TO relay_app_writer;
        """;

    /// <summary>The grants of docs/deployment.md for writers of an attached table, to role <c>relay_table_writer</c>.</summary>
    private const string TableWriterGrants = """
        GRANT USAGE ON SCHEMA relay TO relay_table_writer;
        GRANT SELECT, UPDATE ON relay.topics TO relay_table_writer;
        GRANT SELECT, INSERT ON relay.stream_events TO relay_table_writer;
        """;

    /// <summary>The table rights docs/deployment.md gave writers before the functions ran with the owner's rights.</summary>
    private const string FormerWriterGrants = """
        GRANT USAGE ON SCHEMA relay TO {0};
        GRANT SELECT, UPDATE ON relay.topics TO {0};
        GRANT SELECT, INSERT, UPDATE ON relay.documents TO {0};
        GRANT SELECT, INSERT ON relay.stream_events TO {0};
        """;

    private static Task CreateRoleAsync(string role) =>
        Sql.ExecuteAsync($"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$");

    private static async Task<NpgsqlConnection> ConnectAsAsync(string role)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Username = role, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<PostgresException> FailsAsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await Assert.ThrowsAsync<PostgresException>(async () => await command.ExecuteNonQueryAsync()))!;
    }

    [Test]
    public async Task Writer_withTheDocumentedRights_publishesBatchesAndDeletes_andCannotWriteRelaysTables()
    {
        await CreateRoleAsync("relay_app_writer");
        await Sql.ExecuteAsync(WriterGrants);
        var topic = await TestTopics.CreateAsync();

        await using var writer = await ConnectAsAsync("relay_app_writer");
        foreach (var statement in new[]
        {
            $"SELECT * FROM relay.publish('{topic}', '{topic}:one', '{{\"n\":1}}', 'org-1')",
            $"SELECT * FROM relay.publish_batch('{topic}', '[{{\"doc_key\":\"{topic}:two\",\"payload\":{{\"n\":2}},\"org_id\":\"org-1\"}}]')",
            $"SELECT * FROM relay.delete('{topic}', '{topic}:one')",
        })
        {
            await using var command = new NpgsqlCommand(statement, writer);
            await command.ExecuteNonQueryAsync();
        }

        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(3));

        // Before, those rights were rights on relay's tables, with which a writer could rewind a head, journal events
        // of any organisation, or point a topic at a table it may not read, for the relay to serve.
        foreach (var statement in new[]
        {
            $"UPDATE relay.topics SET head_watermark = 0 WHERE topic = '{topic}'",
            $"UPDATE relay.topics SET read_model = 'pg_authid'::regclass WHERE topic = '{topic}'",
            $"INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, payload) VALUES ('{topic}', 100, 'forged', 1, 'org-2', '{{}}')",
            $"SELECT relay.release_watermarks('{topic}', 1)",
        })
        {
            Assert.That((await FailsAsAsync(writer, statement)).SqlState, Is.AnyOf("42501", "42883"), statement);
        }
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(3));
    }

    [Test]
    public async Task TableWriter_withTheDocumentedRights_writesAnAttachedTable()
    {
        await CreateRoleAsync("relay_table_writer");
        await Sql.ExecuteAsync(TableWriterGrants);
        var attached = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + attached.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", attached, table);
        // The application's own table: its own rights.
        await Sql.ExecuteAsync($"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO relay_table_writer");

        await using var writer = await ConnectAsAsync("relay_table_writer");
        foreach (var statement in new[] { $"INSERT INTO {table} VALUES ('{attached}:row', 'org-1', 1, '{{}}')", $"DELETE FROM {table}" })
        {
            await using var command = new NpgsqlCommand(statement, writer);
            await command.ExecuteNonQueryAsync();
        }

        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", attached), Is.EqualTo(2));
    }

    [Test]
    public async Task AttachedTable_withAColumnWhoseTypeCastsToJsonByItsOwnersFunction_runsItWithTheWritersRights()
    {
        // With the trigger running as the schema's owner, the table owner's cast ran as that owner: it made its role a
        // superuser (outside re-verification R1). It must run with the writer's rights, and fail on what they lack.
        await CreateRoleAsync("relay_cast_writer");
        await Sql.ExecuteAsync("GRANT USAGE ON SCHEMA relay TO relay_cast_writer");
        var attached = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_cast_" + Guid.NewGuid().ToString("N")[..12];
        await Sql.ExecuteAsync($"""
            DO $$ BEGIN CREATE TYPE relay_test_cast_kind AS ENUM ('a'); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            CREATE OR REPLACE FUNCTION relay_test_cast_as(relay_test_cast_kind) RETURNS json LANGUAGE plpgsql AS
                'BEGIN RETURN to_json(current_user::text); END';
            DO $$ BEGIN CREATE CAST (relay_test_cast_kind AS json) WITH FUNCTION relay_test_cast_as(relay_test_cast_kind);
                EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb, kind relay_test_cast_kind DEFAULT 'a');
            SELECT relay.attach('{attached}', '{table}');
            GRANT SELECT, INSERT ON {table} TO relay_cast_writer;
            """);
        await using var writer = await ConnectAsAsync("relay_cast_writer");

        var error = await FailsAsAsync(writer, $"INSERT INTO {table} (doc_key, org_id, doc_version, payload) VALUES ('k', 'org-1', 1, '{{}}')");

        Assert.That(error.SqlState, Is.EqualTo("42501"), "it runs as the writer, who may not write the journal");
    }

    [Test]
    public async Task RoleWithoutExecute_cannotPublish()
    {
        await CreateRoleAsync("relay_other_role");
        await Sql.ExecuteAsync("GRANT USAGE ON SCHEMA relay TO relay_other_role");
        var topic = await TestTopics.CreateAsync();
        await using var other = await ConnectAsAsync("relay_other_role");

        var error = await FailsAsAsync(other, $"SELECT * FROM relay.publish('{topic}', '{topic}:one', '{{}}', 'org-1')");

        Assert.That(error.SqlState, Is.EqualTo("42501"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.Zero);
    }

    [Test]
    public async Task Upgrade_grantsExecuteToEveryRoleThatWroteWithTheFormerTableRights()
    {
        // A writer set up with the rights the docs gave before keeps publishing after the upgrade that revoked
        // EXECUTE from PUBLIC: the migration grants it EXECUTE.
        await CreateRoleAsync("relay_former_writer");
        await Sql.ExecuteAsync("REVOKE ALL ON FUNCTION relay.publish(text, text, jsonb, text, bigint) FROM relay_former_writer");
        await Sql.ExecuteAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, FormerWriterGrants, "relay_former_writer"));
        var topic = await TestTopics.CreateAsync();
        await using (var before = await ConnectAsAsync("relay_former_writer"))
        {
            Assert.That((await FailsAsAsync(before, $"SELECT * FROM relay.publish('{topic}', '{topic}:one', '{{}}', 'org-1')")).SqlState, Is.EqualTo("42501"));
        }

        await Sql.ExecuteAsync(await File.ReadAllTextAsync(Path.Combine(Repository.Root(), "sql", "migrations", "0006_writers_execute.sql")));

        await using var after = await ConnectAsAsync("relay_former_writer");
        await using var publish = new NpgsqlCommand($"SELECT * FROM relay.publish('{topic}', '{topic}:one', '{{}}', 'org-1')", after);
        await publish.ExecuteNonQueryAsync();
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(1));
    }

    [Test]
    public async Task Relay_withoutSelectOnAnAttachedTable_answersAJsonErrorSayingARightIsMissing_andServesItOnceGranted()
    {
        await Sql.ExecuteAsync("""
            DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_rights_reader') THEN CREATE ROLE relay_rights_reader LOGIN; END IF; END $$;
            GRANT USAGE ON SCHEMA relay TO relay_rights_reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA relay TO relay_rights_reader;
            GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA relay TO relay_rights_reader;
            """);
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('{topic}:row', 'org-1', 1, '{{}}')");
        var reader = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Username = "relay_rights_reader" }.ConnectionString;
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Feed"] = "notify" }, connectionString: reader);
        using var http = relay.HttpClient(RelayServerHarness.Token());

        // Before, a 500 with an empty body and an unhandled exception's stack trace in the log.
        using (var refused = await http.GetAsync($"/sync/v1/list/{topic}"))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.InternalServerError));
            Assert.That(await refused.Content.ReadAsStringAsync(),
                Is.EqualTo("""{"error":"INTERNAL","message":"the relay may not read what this request needs (a database right is missing; its log says which)"}"""));
        }

        await using (var client = await WsClient.ConnectAsync(relay))
        {
            await client.SubscribeAsync(topic);
            var ended = await client.ReceiveUntilAsync(envelope => envelope.Error is not null);
            Assert.That((ended[^1].Error.Code, ended[^1].Error.Message),
                Is.EqualTo((ErrorCode.Internal, "the relay may not read this topic (a database right is missing; its log says which)")));
        }

        await Sql.ExecuteAsync($"GRANT SELECT ON {table} TO relay_rights_reader");
        using var served = await http.GetAsync($"/sync/v1/list/{topic}");
        Assert.That(served.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK), await served.Content.ReadAsStringAsync());
    }
}
