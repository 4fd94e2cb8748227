using System.CommandLine;
using Relay.Host.Cli;

namespace Relay.Tests.Cli;

/// <summary><c>relay audit --compare export.jsonl</c>: the documents against another system's export.</summary>
public sealed class ParityAuditTests
{
    [Test]
    public async Task Compare_identicalExport_reportsEveryDocumentMatching()
    {
        var topic = await PublishedTopicAsync();
        var export = await ExportAsync(
            $$$"""{"doc_key":"{{{topic}}}:a","doc_version":1,"payload":{"n":1,"s":"x"}}""",
            // Another key order and number spelling: the same canonical JSON.
            $$$"""{"payload":{"s":"x","n":2.0},"doc_version":1,"doc_key":"{{{topic}}}:b"}""");

        var (exit, output, _) = await AuditAsync(topic, export);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output.Trim(), Is.EqualTo(
            "compare: 2 documents in the export, 2 in the relay; 2 match, 0 differ in version, 0 differ in payload, " +
            "0 missing from the relay, 0 missing from the export, 0 malformed lines"));
    }

    [Test]
    public async Task Compare_divergingExport_reportsEachDifferenceWithCounts()
    {
        var topic = await PublishedTopicAsync();
        var export = await ExportAsync(
            $$$"""{"doc_key":"{{{topic}}}:a","doc_version":2,"payload":{"n":1,"s":"x"}}""",
            $$$"""{"doc_key":"{{{topic}}}:c","doc_version":1,"payload":{"n":3}}""",
            "not json",
            $$$"""{"doc_key":"{{{topic}}}:d","doc_version":1,"payload":{"n":4}}""");
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':c', '{\"n\":30}')", topic);

        var (exit, output, _) = await AuditAsync(topic, export);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"{topic}:a: the relay has v1, the export v2"));
        Assert.That(output, Does.Contain($"{topic}:c: v1 has another payload in the relay than in the export"));
        Assert.That(output, Does.Contain("line 3: not a JSON object"));
        Assert.That(output, Does.Contain($"{topic}:d: missing from the relay (export has v1)"));
        Assert.That(output, Does.Contain($"{topic}:b: missing from the export (the relay has v1)"));
        Assert.That(output, Does.Contain(
            "compare: 3 documents in the export, 3 in the relay; 0 match, 1 differ in version, 1 differ in payload, " +
            "1 missing from the relay, 1 missing from the export, 1 malformed lines"));
    }

    [Test]
    public async Task Compare_missingFile_isAnError()
    {
        var topic = await PublishedTopicAsync();

        var (exit, _, error) = await AuditAsync(topic, Path.Combine(Path.GetTempPath(), $"no-export-{Guid.NewGuid():N}.jsonl"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.StartWith("relay: no file"));
    }

    [Test]
    public async Task Compare_attachedTopic_readsTheAttachedTable()
    {
        var topic = await AttachedTopicAsync("a1", "a2");
        var export = await ExportAsync("""{"doc_key":"a1","doc_version":4,"payload":{"n":1}}""", """{"doc_key":"a2","doc_version":4,"payload":{"n":1}}""");

        var (exit, output, _) = await AuditAsync(topic, export);

        // Before, relay.documents was read, which holds no row of an attached topic: both were "missing from the relay".
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("2 match"));
    }

    [Test]
    public async Task Compare_everyTopic_withADocKeyInTwoTopics_saysToCompareOneTopicAtATime()
    {
        // relay.documents holds a doc_key in one topic only; an attached table may hold it too.
        var shared = $"shared-{Guid.NewGuid():N}";
        await Sql.ExecuteAsync("SELECT relay.publish($1, $2, '{}')", await TestTopics.CreateAsync(), shared);
        await AttachedTopicAsync(shared);

        var (exit, _, error) = await AuditAsync(null, await ExportAsync());

        Assert.That(exit, Is.EqualTo(1));
        // Other tests' attached tables may share keys too: which pair is named first depends on what the database holds.
        Assert.That(error.Trim(), Does.StartWith("relay: ").And.Contain(" is a document of ").And.EndWith("compare one topic at a time with --topic"));
    }

    [Test]
    public async Task Compare_unknownTopic_isAnError()
    {
        var (exit, _, error) = await AuditAsync("no.such_topic", await ExportAsync());

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error.Trim(), Is.EqualTo("relay: no topic no.such_topic: relay status lists the topics"));
    }

    /// <summary>A pointer topic whose read model is an attached table holding <paramref name="docKeys"/>, each at version 4.</summary>
    private static async Task<string> AttachedTopicAsync(params string[] docKeys)
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        var table = "app_parity_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        foreach (var docKey in docKeys)
        {
            await Sql.ExecuteAsync($$"""INSERT INTO {{table}} VALUES ($1, NULL, 4, '{"n":1}')""", docKey);
        }
        return topic;
    }

    private static async Task<string> PublishedTopicAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var topic = await TestTopics.CreateAsync(test: test);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':a', '{\"s\":\"x\",\"n\":1}')", topic);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':b', '{\"n\":2,\"s\":\"x\"}')", topic);
        return topic;
    }

    private static async Task<string> ExportAsync(params string[] lines)
    {
        var path = Path.Combine(Path.GetTempPath(), $"relay-export-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }

    private static async Task<(int Exit, string Output, string Error)> AuditAsync(string? topic, string export)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = ["audit", "--connection-string", TestDatabase.ConnectionString, .. topic is null ? [] : new[] { "--topic", topic }, "--compare", export];
        var exit = await ExpectedFailure.InvokeAsync(RelayCommandLine.Create().Parse(args), new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
