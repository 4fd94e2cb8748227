using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Tests.Sync;

public sealed class HydrationTests
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static async Task<(long Watermark, List<(string Key, long Version)> Documents)> ListAllAsync(string topic, int limit)
    {
        using var http = s_relay.HttpClient(RelayServerHarness.Token());
        var documents = new List<(string, long)>();
        long? first = null;
        string? after = "";
        while (after is not null)
        {
            using var page = JsonDocument.Parse(await http.GetStringAsync($"/sync/v1/list/{topic}?limit={limit}&after={Uri.EscapeDataString(after)}"));
            // Subscribe from the first page's watermark: later pages only show newer states.
            first ??= page.RootElement.GetProperty("watermark").GetInt64();
            documents.AddRange(page.RootElement.GetProperty("documents").EnumerateArray()
                .Select(d => (d.GetProperty("docKey").GetString()!, d.GetProperty("docVersion").GetInt64())));
            after = page.RootElement.GetProperty("next").GetString();
        }
        return (first!.Value, documents);
    }

    [TestCase("/sync/v1/list/{0}", 200)]
    [TestCase("/sync/v1/doc/{0}:one?topic={0}", 200)]
    [TestCase("/sync/v1/doc/{0}:none", 404)]
    public async Task Answers_sayNoCacheMayKeepThem(string path, int status)
    {
        // One identity's documents, perhaps asked for with the token in the query string: before, only a 401 said no-store.
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':one', '{}', 'org-1')", topic);
        using var http = s_relay.HttpClient();

        using var response = await http.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, topic) +
            (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "access_token=" + RelayServerHarness.Token());

        Assert.That((int)response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
    }

    [Test]
    public async Task List_pagesThroughLiveDocumentsWithTheTopicsWatermark()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || lpad(i::text, 3, '0'), '{}') FROM generate_series(1, 25) i", topic);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':002')", topic);

        var (watermark, documents) = await ListAllAsync(topic, limit: 10);

        Assert.That(watermark, Is.EqualTo(26));
        Assert.That(documents.Select(d => d.Key), Is.EqualTo(Enumerable.Range(1, 25).Where(i => i != 2).Select(i => $"{topic}:{i:000}")));
    }

    [Test]
    public async Task List_ofAnAttachedTable_whoseOrgColumnComparesCaseInsensitively_givesNoOtherOrganisationsDocuments()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($$"""INSERT INTO {{table}} VALUES ('{{topic}}:secret', 'org-a', 1, '{"s": "SECRET-A"}')""");
        // relay.attach refuses such a column; one altered after the attach is still held by the relay's own check.
        await Sql.ExecuteAsync(Functions.AttachTests.CaseInsensitiveCollation);
        await Sql.ExecuteAsync($"ALTER TABLE {table} ALTER COLUMN org_id TYPE text COLLATE relay_test_ci");

        async Task<string[]> ListAsync(string org)
        {
            using var http = s_relay.HttpClient(RelayServerHarness.Token(org: org));
            using var page = JsonDocument.Parse(await http.GetStringAsync($"/sync/v1/list/{topic}"));
            return [.. page.RootElement.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("docKey").GetString()!)];
        }

        // Before, ORG-A was given org-a's document: the query's comparison took the column's collation.
        Assert.That(await ListAsync("ORG-A"), Is.Empty);
        Assert.That(await ListAsync("org-a"), Is.EqualTo(new[] { $"{topic}:secret" }));
    }

    [TestCase("/sync/v1/list/{0}", 200)]
    [TestCase("/sync/v1/doc/{0}:a?topic={0}", 200)]
    [TestCase("/sync/v1/doc/{0}:missing?topic={0}", 404)]
    [TestCase("/readyz", 200)]
    [TestCase("/healthz", 200)]
    public async Task Head_answersAsGetWould_withoutABody(string path, int status)
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':a', '{\"n\": 1}')", topic);
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        // Before, 405: HTTP tooling, CDNs and load balancers probe with HEAD.
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, string.Format(System.Globalization.CultureInfo.InvariantCulture, path, topic)));

        Assert.That((int)response.StatusCode, Is.EqualTo(status));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [TestCase("/sync/v1/list/{0}?after=%00", "after")]
    [TestCase("/sync/v1/doc/a?topic={0}%00", "topic")]
    public async Task Request_withANulCharacter_is400NamingTheParameter(string path, string parameter)
    {
        var topic = await TestTopics.CreateAsync();
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        using var response = await http.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, topic));

        Assert.That((int)response.StatusCode, Is.EqualTo(400));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(body.RootElement.GetProperty("error").GetString(), Is.EqualTo("BAD_REQUEST"));
        Assert.That(body.RootElement.GetProperty("message").GetString(), Does.StartWith(parameter));
    }

    [Test]
    public async Task ListAndDocument_withTheDatabaseDown_are503UnavailableWithRetryAfter()
    {
        var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-down-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }
        await using var relay = await RelayServerHarness.StartAsync(settings: new Dictionary<string, string> { ["Relay:Feed"] = "notify" }, connectionString: database.ConnectionString);
        await database.DisposeAsync();
        using var http = relay.HttpClient(RelayServerHarness.Token(scopes: "runtime.*"));

        foreach (var path in new[] { "/sync/v1/list/runtime.run_summaries", "/sync/v1/doc/run-1" })
        {
            using var response = await http.GetAsync(path);

            Assert.That((int)response.StatusCode, Is.EqualTo(503), path);
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)), path);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.That(body.RootElement.GetProperty("error").GetString(), Is.EqualTo("UNAVAILABLE"), path);
        }
    }

    [TestCase("100000")]
    [TestCase("99999999999")]
    [TestCase("99999999999999999999999")]
    public async Task List_limitAboveTheCap_isCappedAt500(string limit)
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || i, 'payload', '{}'::jsonb)) FROM generate_series(1, 600) i))", topic);
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        using var page = JsonDocument.Parse(await http.GetStringAsync($"/sync/v1/list/{topic}?limit={limit}"));

        Assert.That(page.RootElement.GetProperty("documents").GetArrayLength(), Is.EqualTo(500));
    }

    [Test]
    public async Task HydrateThenSubscribe_underConcurrentWrites_losesNothing()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':w0-' || i, '{}') FROM generate_series(0, 19) i", topic);
        var writers = Writers.RunAsync(TestDatabase.ConnectionString, [topic], writers: 4, perWriter: 150);

        var (watermark, documents) = await ListAllAsync(topic, limit: 7);
        var cache = documents.ToDictionary(d => d.Key, d => d.Version);
        await using var client = await WsClient.ConnectAsync(s_relay);
        await client.SubscribeAsync(topic, watermark);
        await writers;
        var head = await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic);
        foreach (var update in await client.UpdatesThroughAsync(topic, head))
        {
            if (!cache.TryGetValue(update.DocKey, out var version) || version < update.DocVersion)
            {
                cache[update.DocKey] = update.DocVersion;
            }
        }

        var readModel = await Sql.RowsAsync("SELECT doc_key, doc_version FROM relay.documents WHERE topic = $1 AND NOT deleted", topic);
        Assert.That(cache, Is.EquivalentTo(readModel.ToDictionary(r => (string)r[0]!, r => (long)r[1]!)));
    }

    [TestCase("a/b")]
    [TestCase("a%2Fb")]
    [TestCase("a%252F/b?c#d")]
    public async Task Doc_keyWithASlashOrItsEscape_isFoundAsPublished(string key)
    {
        var topic = await TestTopics.CreateAsync();
        var docKey = $"{topic}:{key}";
        await Sql.ExecuteAsync("SELECT relay.publish($1, $2, '{}')", topic, docKey);
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        using var document = JsonDocument.Parse(await http.GetStringAsync($"/sync/v1/doc/{Uri.EscapeDataString(docKey)}"));

        Assert.That(document.RootElement.GetProperty("docKey").GetString(), Is.EqualTo(docKey));
    }

    [Test]
    public async Task Doc_unknownOrDeleted_is404()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':gone', '{}')", topic);
        await Sql.ExecuteAsync("SELECT relay.delete($1, $1 || ':gone')", topic);
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        Assert.That((int)(await http.GetAsync($"/sync/v1/doc/{Uri.EscapeDataString(topic + ":gone")}")).StatusCode, Is.EqualTo(404));
        Assert.That((int)(await http.GetAsync("/sync/v1/doc/never-published")).StatusCode, Is.EqualTo(404));
    }

    [Test]
    public async Task Doc_ofAnAttachedTopic_isReadFromTheApplicationsTable()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        var table = "app_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('{topic}:a', 'org-1', 3, '{{\"from\":\"app\"}}')");
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        using var document = JsonDocument.Parse(await http.GetStringAsync($"/sync/v1/doc/{Uri.EscapeDataString(topic + ":a")}?topic={topic}"));

        Assert.That(document.RootElement.GetProperty("docVersion").GetInt64(), Is.EqualTo(3));
        Assert.That(document.RootElement.GetProperty("payload").GetProperty("from").GetString(), Is.EqualTo("app"));
    }
}
