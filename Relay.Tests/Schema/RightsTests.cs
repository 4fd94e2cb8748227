using Npgsql;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Schema;

/// <summary>The rights docs/deployment.md ("Rights") gives the application's and the relay's roles are the ones they need.</summary>
public sealed class RightsTests
{
    /// <summary>The grants of docs/deployment.md, word for word, to role <c>relay_app_writer</c>.</summary>
    private const string WriterGrants = """
        GRANT USAGE ON SCHEMA relay TO relay_app_writer;
        GRANT SELECT, UPDATE ON relay.topics TO relay_app_writer;
        GRANT SELECT, INSERT, UPDATE ON relay.documents TO relay_app_writer;
        GRANT SELECT, INSERT ON relay.stream_events TO relay_app_writer;
        """;

    [Test]
    public async Task Writer_withTheDocumentedRights_publishesBatchesDeletesAndWritesAnAttachedTable()
    {
        await Sql.ExecuteAsync("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_app_writer') THEN CREATE ROLE relay_app_writer LOGIN; END IF; END $$");
        await Sql.ExecuteAsync(WriterGrants);
        var topic = await TestTopics.CreateAsync();
        var attached = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + attached.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", attached, table);
        // The application's own table: its own rights.
        await Sql.ExecuteAsync($"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO relay_app_writer");

        await using var writer = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Username = "relay_app_writer", Pooling = false }.ConnectionString);
        await writer.OpenAsync();
        foreach (var statement in new[]
        {
            $"SELECT * FROM relay.publish('{topic}', '{topic}:one', '{{\"n\":1}}', 'org-1')",
            $"SELECT * FROM relay.publish_batch('{topic}', '[{{\"doc_key\":\"{topic}:two\",\"payload\":{{\"n\":2}},\"org_id\":\"org-1\"}}]')",
            $"SELECT * FROM relay.delete('{topic}', '{topic}:one')",
            $"INSERT INTO {table} VALUES ('{attached}:row', 'org-1', 1, '{{}}')",
            $"DELETE FROM {table}",
        })
        {
            await using var command = new NpgsqlCommand(statement, writer);
            await command.ExecuteNonQueryAsync();
        }

        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(3));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", attached), Is.EqualTo(2));
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
