using System.CommandLine;
using Relay.Host.Cli;

namespace Relay.Tests.Cli;

public sealed class OperatorCommandTests
{
    private static async Task<(int Exit, string Output, string Error)> RelayAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await ExpectedFailure.InvokeAsync(
            RelayCommandLine.Create().Parse([args[0], "--connection-string", TestDatabase.ConnectionString, .. args[1..]]),
            new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Test]
    public async Task Publish_printsTheWatermark_andAuditFindsNothingWrong()
    {
        var topic = await TestTopics.CreateAsync();

        var first = await RelayAsync("publish", "--topic", topic, "--key", $"{topic}:a", "--payload", """{"n":1}""");
        var second = await RelayAsync("publish", "--topic", topic, "--key", $"{topic}:a", "--payload", """{"n":2}""");
        var audit = await RelayAsync("audit", "--topic", topic);

        Assert.That(first.Output.Trim(), Is.EqualTo("""{"watermark":1,"doc_version":1}"""));
        Assert.That(second.Output.Trim(), Is.EqualTo("""{"watermark":2,"doc_version":2}"""));
        Assert.That((audit.Exit, audit.Output.Trim()), Is.EqualTo((0, "audit: no problems")));
    }

    [Test]
    public async Task Publish_refused_printsTheSqlStateAndExitsWithOne()
    {
        var (exit, _, error) = await RelayAsync("publish", "--topic", TestTopics.Name(), "--key", "k", "--payload", "{}");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error.Trim(), Does.StartWith("relay: RL001: unknown topic").And.EndWith("relay status lists the topics; relay.create_topic creates one (docs/sql.md)"));
    }

    [Test]
    public async Task Publish_badTopicName_printsTheRuleFromTheDatabasesHint()
    {
        var run = await RelayAsync("publish", "--topic", "Bad Topic!", "--key", "k", "--payload", "{}");

        StartupErrorTests.AssertOneLine(run, "RL002: invalid topic name", "Topic names match");
    }

    [Test]
    public async Task Publish_payloadNotJson_saysSoBeforeTheDatabase()
    {
        var run = await RelayAsync("publish", "--topic", TestTopics.Name(), "--key", "k", "--payload", """{"a":""");

        StartupErrorTests.AssertOneLine(run, "--payload is not JSON", "give the document as JSON");
    }

    [Test]
    public async Task Publish_versionNotANumber_namesTheOption_notATypeName()
    {
        var run = await RelayAsync("publish", "--topic", TestTopics.Name(), "--key", "k", "--payload", "{}", "--version", "abc");

        StartupErrorTests.AssertOneLine(run, "--version 'abc' is not a whole number", "relay publish --help");
        Assert.That(run.Error, Does.Not.Contain("System."));
    }

    [Test]
    public async Task UnknownOption_isOneLine_withoutTheWholeHelp()
    {
        var run = await RelayAsync("status", "--bogus");

        StartupErrorTests.AssertOneLine(run, "Unrecognized command or argument '--bogus'", "relay status --help");
        Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Prune_printsWhatItDeleted()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 3) i", topic);

        var (exit, output, _) = await RelayAsync("prune", "--topic", topic, "--older-than", "0 seconds");

        Assert.That((exit, output.Trim()), Is.EqualTo((0, $$"""{"topic":"{{topic}}","deleted":3,"retained_after":3}""")));
    }

    [Test]
    public async Task Prune_deletesUntilNothingIsLeft_beyondOneCallsLimit()
    {
        // Before, relay prune called relay.prune once, which stops at relay.prune_max_per_call a topic, and exited 0
        // with the topic half pruned (ops review O4).
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 5) i", topic);
        var limited = new Npgsql.NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Options = "-c relay.prune_max_per_call=2" }.ConnectionString;
        var output = new StringWriter();

        var exit = await ExpectedFailure.InvokeAsync(
            RelayCommandLine.Create().Parse(["prune", "--connection-string", limited, "--topic", topic, "--older-than", "0 seconds"]),
            new InvocationConfiguration { Output = output, Error = new StringWriter() });

        Assert.That((exit, output.ToString().Trim()), Is.EqualTo((0, $$"""{"topic":"{{topic}}","deleted":5,"retained_after":5}""")));
    }

    [Test]
    public async Task Prune_olderThanThatIsNoInterval_saysWhatToGive()
    {
        var (exit, _, error) = await RelayAsync("prune", "--older-than", "garbage");

        Assert.That((exit, error.Trim()), Is.EqualTo((1, "relay: 22007: invalid input syntax for type interval: \"garbage\": give a PostgreSQL interval, e.g. '7 days' or '12 hours'")));
    }

    [Test]
    public async Task Status_listsTopicsWithTheirHeads()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':a', '{}')", topic);

        var (exit, output, _) = await RelayAsync("status");

        Assert.That(exit, Is.Zero);
        Assert.That(output, Does.Contain($$"""{"topic":"{{topic}}","head_watermark":1,"retained_after":0,"retained_events":1"""));
    }

    [Test]
    public async Task Status_topicRetainedForMonthsOrYears_isAnIsoDuration_notAStackTrace()
    {
        var monthly = await TestTopics.CreateAsync(retention: "1 month", test: "StatusMonthly");
        var mixed = await TestTopics.CreateAsync(retention: "1 year 2 months 3 days 4 hours", test: "StatusMixed");

        // Npgsql reads no interval with months as a TimeSpan: one such topic made relay status a stack trace for all.
        var (exit, output, error) = await RelayAsync("status");

        Assert.That((exit, error), Is.EqualTo((0, "")));
        Assert.That(output, Does.Contain($$"""{"topic":"{{monthly}}",""").And.Contains("\"retention\":\"P1M\""));
        Assert.That(output, Does.Contain($$"""{"topic":"{{mixed}}",""").And.Contains("\"retention\":\"P1Y2M3DT4H\""));
    }

    [TestCase(0, 7, 0L, "P7D")]
    [TestCase(0, 0, 43_200_000_000L, "PT12H")]
    [TestCase(12, 0, 0L, "P1Y")]
    [TestCase(14, 3, 14_400_000_000L, "P1Y2M3DT4H")]
    public void Duration_writesMonthsAndYearsBeforeDaysAndTime(int months, int days, long microseconds, string expected) =>
        Assert.That(OperatorCommands.Duration(new NpgsqlTypes.NpgsqlInterval(months, days, microseconds)), Is.EqualTo(expected));

    [Test]
    public async Task Audit_tamperedHashGapAndReadModel_areEachReported()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, jsonb_build_object('i', i)) FROM generate_series(1, 4) i", topic);

        await Sql.ExecuteAsync("UPDATE relay.stream_events SET payload_hash = sha256('x') WHERE topic = $1 AND watermark = 1", topic);
        await Sql.ExecuteAsync("DELETE FROM relay.stream_events WHERE topic = $1 AND watermark = 3", topic);
        await Sql.ExecuteAsync("UPDATE relay.documents SET doc_version = 9 WHERE doc_key = $1 || ':4'", topic);
        await Sql.ExecuteAsync("UPDATE relay.documents SET payload = '{\"i\": 0}' WHERE doc_key = $1 || ':2'", topic);
        var (exit, output, _) = await RelayAsync("audit", "--topic", topic);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"{topic}: the journal after 0 holds 3 events, not the 4 up to the head 4; the first missing is 3"));
        Assert.That(output, Does.Contain($"journal {topic}@1: payload_hash is not the SHA-256"));
        Assert.That(output, Does.Contain($"document {topic}:3: no journal event at its watermark"));
        Assert.That(output, Does.Contain($"document {topic}:4: the read model disagrees with its newest journal event: doc_version 9 against the event's 1"));
        Assert.That(output, Does.Contain($"document {topic}:2: the read model disagrees with its newest journal event: another payload"));
    }

    [Test]
    public async Task Audit_attachedOrgColumnAlteredToCompareCaseInsensitively_isReported()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        // relay.attach refuses such a column; one altered after the attach is what the audit finds.
        await Sql.ExecuteAsync(Functions.AttachTests.CaseInsensitiveCollation);
        await Sql.ExecuteAsync($"ALTER TABLE {table} ALTER COLUMN org_id TYPE text COLLATE relay_test_ci");

        var (exit, output, _) = await RelayAsync("audit", "--topic", topic);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"{topic}: column {table}.org_id has a nondeterministic collation"));
    }

    [Test]
    public async Task Audit_attachedTableWithItsTriggerDisabled_isReported()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($"ALTER TABLE {table} DISABLE TRIGGER relay_journal");

        var (exit, output, _) = await RelayAsync("audit", "--topic", topic);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"{topic}: table {table} is its read model, but no enabled relay_journal trigger journals its changes into it"));
    }

    [Test]
    public async Task Audit_attachedTableDropped_isReportedAsDropped()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($"DROP TABLE {table}");

        var (exit, output, _) = await RelayAsync("audit", "--topic", topic);
        // Left so, the topic would fail whatever reads every topic's read model later in the suite.
        await Sql.ExecuteAsync("UPDATE relay.topics SET read_model = NULL, read_model_columns = NULL WHERE topic = $1", topic);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Match($@"{System.Text.RegularExpressions.Regex.Escape(topic)}: its read model, the table of oid \d+, was dropped"));
    }

    [Test]
    public async Task Audit_tableJournalingIntoATopicWhoseReadModelIsAnother_isReported()
    {
        // relay.attach now refuses a second wiring; a schema from before it, or a trigger made by hand, may hold one.
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        var (_, stray) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($"""
            CREATE OR REPLACE TRIGGER relay_journal AFTER INSERT OR UPDATE OR DELETE ON {stray}
            FOR EACH ROW EXECUTE FUNCTION relay.journal_read_model_change('{topic}', 'doc_key', 'org_id', 'doc_version', 'payload')
            """);

        var (exit, output, _) = await RelayAsync("audit", "--topic", topic);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"{topic}: table {stray} journals into it, but its read model is {table}"));
        Assert.That(output, Does.Not.Contain("no enabled relay_journal trigger"), "the topic's own table is still wired");
    }

    [Test]
    public async Task Audit_attachedTableWithRowLevelSecurity_isReportedToARoleThatDoesNotSeeEveryRow()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY");
        await Sql.ExecuteAsync("""
            DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_audit_reader') THEN CREATE ROLE relay_audit_reader LOGIN; END IF; END $$;
            GRANT USAGE ON SCHEMA relay TO relay_audit_reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA relay TO relay_audit_reader;
            """);
        await Sql.ExecuteAsync($"GRANT SELECT ON {table} TO relay_audit_reader");
        var reader = new Npgsql.NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Username = "relay_audit_reader" }.ConnectionString;
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(reader);

        var problems = await Relay.Core.Journal.JournalAudit.RunAsync(dataSource, topic);
        var asOwner = await Relay.Core.Journal.JournalAudit.RunAsync(TestDatabase.DataSource, topic);

        Assert.That(problems, Has.Some.StartsWith($"{topic}: table {table} has row-level security, and the role relay_audit_reader running this audit does not see every row"));
        Assert.That(asOwner, Is.Empty, "the table's owner sees every row");
    }
}
