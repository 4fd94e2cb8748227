using Npgsql;

namespace Relay.Tests.Functions;

public sealed class AttachTests
{
    private static async Task<(string Topic, string Table)> AttachNewTableAsync()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        return (topic, table);
    }

    [Test]
    public async Task Attach_insertUpdateDelete_areJournaledInPointerMode()
    {
        var (topic, table) = await AttachNewTableAsync();

        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{\"a\":1}}')");
        await Sql.ExecuteAsync($"UPDATE {table} SET doc_version = 2, payload = '{{\"a\":2}}'");
        await Sql.ExecuteAsync($"DELETE FROM {table}");

        var journal = await Sql.RowsAsync(
            "SELECT watermark, doc_key, doc_version, org_id, payload, payload_hash, tombstone FROM relay.stream_events WHERE topic = $1 ORDER BY watermark",
            topic);
        Assert.That(journal, Is.EqualTo(new[]
        {
            new object?[] { 1L, "k", 1L, "org-1", null, null, false },
            new object?[] { 2L, "k", 2L, "org-1", null, null, false },
            new object?[] { 3L, "k", 3L, "org-1", null, null, true },
        }));
        var topicRow = await Sql.RowsAsync("SELECT payload_mode, read_model::text FROM relay.topics WHERE topic = $1", topic);
        Assert.That(topicRow.Single(), Is.EqualTo(new object?[] { "pointer", table }));
    }

    [Test]
    public async Task PublishDeleteAndBatch_onAnAttachedTopic_raiseRL002_andJournalNothing()
    {
        var (topic, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('row', 'org-1', 1, '{{}}')");

        // relay.documents is not what an attached topic's clients read: such a write would reach them as a deletion.
        var publish = await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish($1, 'k', '{}', 'org-1')", topic);
        await Sql.FailsAsync("RL002", """SELECT * FROM relay.publish_batch($1, '[{"doc_key":"k","payload":{},"org_id":"org-1"}]')""", topic);
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.publish_batch($1, '[]')", topic);
        await Sql.FailsAsync("RL002", "SELECT * FROM relay.delete($1, 'row')", topic);

        Assert.That(publish.MessageText, Does.Contain($"is fed by table public.{table}").And.Contain("write the table instead"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(1));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.documents WHERE topic = $1", topic), Is.Zero);
    }

    [Test]
    public async Task Attach_updateWithoutNewVersion_raisesRL004AndKeepsRow()
    {
        var (_, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{\"a\":1}}')");

        await Sql.FailsAsync("RL004", $"UPDATE {table} SET payload = '{{\"a\":2}}'");

        Assert.That(await Sql.ScalarAsync<string>($"SELECT payload::text FROM {table}"), Is.EqualTo("""{"a": 1}"""));
    }

    [Test]
    public async Task Attach_updateToLowerVersion_raisesRL003()
    {
        var (_, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 5, '{{}}')");

        await Sql.FailsAsync("RL003", $"UPDATE {table} SET doc_version = 4");
    }

    [Test]
    public async Task Attach_keyDeletedThenInsertedAgainNotAboveWhatItsOrgWasSent_raisesRL003()
    {
        var (topic, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 5, '{{}}')");
        await Sql.ExecuteAsync($"DELETE FROM {table}");

        var refused = await Sql.FailsAsync("RL003", $"INSERT INTO {table} VALUES ('k', 'org-1', 6, '{{}}')");
        // org-2's clients never held k: it may start again at 1 there (docs/sql.md, attach).
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-2', 1, '{{}}')");
        await Sql.ExecuteAsync($"DELETE FROM {table}");
        // org-1's clients still hold the tombstone at 6.
        await Sql.FailsAsync("RL003", $"INSERT INTO {table} VALUES ('k', 'org-1', 3, '{{}}')");
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 7, '{{}}')");

        Assert.That(refused.MessageText, Does.Contain("not newer than version 6"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic), Is.EqualTo(5), "k at 5, its tombstone, org-2's k and its tombstone, k at 7");
    }

    [Test]
    public async Task Attach_rowWithoutOrgOnTopicRequiringOne_raisesRL002()
    {
        var (_, table) = await AttachNewTableAsync();

        await Sql.FailsAsync("RL002", $"INSERT INTO {table} VALUES ('k', NULL, 1, '{{}}')");
    }

    [Test]
    public async Task Attach_rowWithoutVersion_raisesRL002NamingTheTableWithItsSchema()
    {
        var (_, table) = await AttachNewTableAsync();

        var error = await Sql.FailsAsync("RL002", $"INSERT INTO {table} VALUES ('k', 'org-1', NULL, '{{}}')");
        Assert.That(error.MessageText, Is.EqualTo($"public.{table}.doc_version must not be null"));
    }

    [Test]
    public async Task Attach_docKeyRenamed_journalsTombstoneThenNewKey()
    {
        var (topic, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('old', 'org-1', 1, '{{}}')");

        await Sql.ExecuteAsync($"UPDATE {table} SET doc_key = 'new'");

        var journal = await Sql.RowsAsync(
            "SELECT doc_key, doc_version, tombstone FROM relay.stream_events WHERE topic = $1 AND watermark > 1 ORDER BY watermark", topic);
        Assert.That(journal, Is.EqualTo(new[] { new object?[] { "old", 2L, true }, new object?[] { "new", 1L, false } }));
    }

    // Columns missing; a payload column that is not json; a doc_key unique only with the org, so two organisations
    // could hold one key while the relay reads a row back by its key alone.
    [TestCase("doc_key text PRIMARY KEY, payload jsonb")]
    [TestCase("doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload text")]
    [TestCase("doc_key text, org_id text, doc_version bigint, payload jsonb, PRIMARY KEY (org_id, doc_key)")]
    // Keys or organisations the journal and the read model would spell differently (padding), or that compare equal
    // while they differ (a case-insensitive collation let ORG-A list org-a's documents).
    [TestCase("doc_key text PRIMARY KEY, org_id char(8), doc_version bigint, payload jsonb")]
    [TestCase("doc_key character(12) PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    [TestCase("doc_key text PRIMARY KEY, org_id relay_test_org, doc_version bigint, payload jsonb")]
    [TestCase("doc_key text PRIMARY KEY, org_id text COLLATE relay_test_ci, doc_version bigint, payload jsonb")]
    [TestCase("doc_key text COLLATE relay_test_ci PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    // Keys whose journaled text (to_jsonb) is not the read model's (::text): their events went out as deletions.
    [TestCase("doc_key timestamp PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    [TestCase("doc_key timestamptz PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    [TestCase("doc_key float8 PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    [TestCase("doc_key text PRIMARY KEY, org_id date, doc_version bigint, payload jsonb")]
    // A type the table's owner made, whose casts the relay's reads would run with the relay's rights.
    [TestCase("doc_key relay_test_kind PRIMARY KEY, org_id text, doc_version bigint, payload jsonb")]
    // A version column of text took 'v2' and failed every such write with a raw 22P02.
    [TestCase("doc_key text PRIMARY KEY, org_id text, doc_version text, payload jsonb")]
    [TestCase("doc_key text PRIMARY KEY, org_id text, doc_version numeric, payload jsonb")]
    public async Task Attach_tableItCannotServe_raisesRL002(string columns) =>
        await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", await PointerTopicWithTableAsync(columns));

    [TestCase("org_id", TestName = "Attach_orgColumnAlteredIntoCharacterN_refusesWritesItWouldJournalPadded")]
    [TestCase("doc_key", TestName = "Attach_docKeyColumnAlteredIntoCharacterN_refusesWritesItWouldJournalPadded")]
    public async Task Attach_columnAlteredIntoCharacterN_refusesWritesItWouldJournalPadded(string column)
    {
        var (topic, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k-1', 'org-1', 1, '{{}}')");
        await Sql.ExecuteAsync($"ALTER TABLE {table} ALTER COLUMN {column} TYPE character(8)");

        // Before, 'k-1' or 'org-1' was journaled padded ('org-1   '), which no token's organisation matched, while the
        // read model gave it trimmed: the owner was sent nothing, and the delete never reached the rows' holders.
        var update = await Sql.FailsAsync("RL002", $"UPDATE {table} SET doc_version = 2");
        await Sql.FailsAsync("RL002", $"DELETE FROM {table}");
        await Sql.FailsAsync("RL002", $"INSERT INTO {table} VALUES ('k-2', 'org-2', 1, '{{}}')");
        // A value that fills the column has no padding: journal and read model agree, and the write goes through.
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('key-0008', 'org-0008', 1, '{{}}')");

        Assert.That(update.MessageText, Does.Contain($"column {table}.{column} is character(8)"));
        Assert.That(update.Hint, Does.Contain("relay audit"));
        var journal = await Sql.RowsAsync("SELECT doc_key, org_id FROM relay.stream_events WHERE topic = $1 ORDER BY watermark", topic);
        Assert.That(journal, Is.EqualTo(new[] { new object?[] { "k-1", "org-1" }, new object?[] { "key-0008", "org-0008" } }));
    }

    [Test]
    public async Task Attach_docKeyWithAUniqueIndex_isAccepted() =>
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)",
            await PointerTopicWithTableAsync("id bigint PRIMARY KEY, doc_key text NOT NULL UNIQUE, org_id text, doc_version bigint, payload jsonb"));

    /// <summary>Creates <c>relay_test_ci</c>, an ICU collation under which 'ORG-A' equals 'org-a'.</summary>
    internal const string CaseInsensitiveCollation =
        "CREATE COLLATION IF NOT EXISTS relay_test_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)";

    private static async Task<object?[]> PointerTopicWithTableAsync(string columns)
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer");
        var table = "app_shape_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync(CaseInsensitiveCollation);
        // A domain over a domain over character(8): the padding is the base type's at any depth.
        await Sql.ExecuteAsync("""
            DO $$ BEGIN
                CREATE DOMAIN relay_test_padded AS character(8);
                CREATE DOMAIN relay_test_org AS relay_test_padded;
            EXCEPTION WHEN duplicate_object THEN NULL;
            END $$
            """);
        await Sql.ExecuteAsync("DO $$ BEGIN CREATE TYPE relay_test_kind AS ENUM ('a'); EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        await Sql.ExecuteAsync($"CREATE TABLE {table} ({columns})");
        return [topic, table];
    }

    [Test]
    public async Task Attach_rowsWithoutAnOrgOnATopicThatRequiresOne_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_nullorg_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('legacy', NULL, 1, '{{}}')");

        await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", topic, table);

        var attached = await Sql.RowsAsync("SELECT read_model::text FROM relay.topics WHERE topic = $1", topic);
        Assert.That(attached.Single()[0], Is.Null, "the topic is not attached");
    }

    [Test]
    public async Task CreateTopic_requiringAnOrgOfAnAttachedTopicWithGlobalRows_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: false);
        var table = "app_global_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('global', NULL, 1, '{{}}')");

        await Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'pointer', '7 days', true)", topic);

        await Sql.ExecuteAsync($"DELETE FROM {table}");
        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'pointer', '7 days', true)", topic);
    }

    [Test]
    public async Task CreateTopic_inlineOnAttachedTopic_raisesRL002()
    {
        var (topic, _) = await AttachNewTableAsync();

        await Sql.FailsAsync("RL002", "SELECT relay.create_topic($1, 'inline')", topic);
    }

    [Test]
    public async Task Attach_truncate_isRefusedWithRL006AndKeepsTheRows()
    {
        var (_, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{}}')");

        var error = await Sql.FailsAsync("RL006", $"TRUNCATE {table}");

        Assert.That(error.MessageText, Does.StartWith($"table public.{table} feeds topic"));
        Assert.That(await Sql.ScalarAsync<long>($"SELECT count(*) FROM {table}"), Is.EqualTo(1));
    }

    [Test]
    public async Task Attach_payloadColumnRenamed_nextWriteFailsInsteadOfJournalingNothing()
    {
        var (topic, table) = await AttachNewTableAsync();
        await Sql.ExecuteAsync($"ALTER TABLE {table} RENAME COLUMN payload TO body");

        await Sql.FailsAsync("RL002", $"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{}}')");

        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1", topic), Is.Zero);
    }

    [TestCase("org_id")]
    [TestCase("doc_key")]
    public async Task Attach_orgOrKeyColumnRenamed_writesAndDeletesAreRefusedNamingTheColumn_andJournalNothing(string column)
    {
        // Before, a renamed org column journaled rows as documents of every organisation (the others read it as null).
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: false);
        var table = "app_renamed_" + Guid.NewGuid().ToString("N")[..12];
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{}}')");
        await Sql.ExecuteAsync($"ALTER TABLE {table} RENAME COLUMN {column} TO renamed");

        var insert = await Sql.FailsAsync("RL002", $"INSERT INTO {table} VALUES ('k2', 'org-1', 1, '{{}}')");
        Assert.That(insert.MessageText, Is.EqualTo($"table public.{table} has no column '{column}', which relay.attach was given for topic '{topic}'"));
        await Sql.FailsAsync("RL002", $"DELETE FROM {table}");

        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.stream_events WHERE topic = $1", topic), Is.EqualTo(1));
    }

    [Test]
    public async Task Attach_aTableThatFeedsAnotherTopic_orATopicFedByAnotherTable_raisesRL002_andChangesNothing()
    {
        // Before, the second wiring left the first in place: live rows went out as deletions, and the first topic went deaf.
        var (topic, table) = await AttachNewTableAsync();
        var (otherTopic, _) = await AttachNewTableAsync();
        var unattached = table + "_2";
        await Sql.ExecuteAsync($"CREATE TABLE {unattached} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");

        var moved = await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", otherTopic, table);
        Assert.That(moved.MessageText, Is.EqualTo($"table {table} already feeds topic '{topic}'; a table feeds one topic"));
        var second = await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", topic, unattached);
        Assert.That(second.MessageText, Is.EqualTo($"topic '{topic}' is fed by table {table} already; a topic has one table"));

        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table); // the same wiring again is fine
        await Sql.ExecuteAsync($"INSERT INTO {table} VALUES ('k', 'org-1', 1, '{{}}')");
        Assert.That(await Sql.RowsAsync("SELECT topic FROM relay.stream_events WHERE topic IN ($1, $2)", topic, otherTopic),
            Is.EqualTo(new[] { new object?[] { topic } }));
    }

    [TestCase("PARTITION BY HASH (doc_key)")]
    [TestCase("PARTITION OF")]
    public async Task Attach_aPartitionedTableOrAPartition_raisesRL002(string shape)
    {
        // A partition truncated, detached or dropped took its documents away without a tombstone.
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb) PARTITION BY HASH (doc_key)");
        await Sql.ExecuteAsync($"CREATE TABLE {table}_0 PARTITION OF {table} FOR VALUES WITH (MODULUS 1, REMAINDER 0)");
        var attached = shape == "PARTITION OF" ? table + "_0" : table;

        var error = await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", topic, attached);

        Assert.That(error.MessageText, Does.StartWith($"table {attached} is partitioned (or a partition)"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'relay_journal'", table), Is.Zero);
    }

    [Test]
    public async Task Attach_aTopicHoldingPublishedDocuments_raisesRL002_andOnceTheyAreDeleted_isAccepted()
    {
        // Before, replaying clients kept the published documents for good, while hydration never listed them.
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_" + topic.Replace('.', '_');
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync("SELECT relay.publish($1, 'published', '{}', 'org-1')", topic);

        var error = await Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", topic, table);
        Assert.That(error.MessageText, Is.EqualTo($"topic '{topic}' holds documents written with relay.publish; a table cannot take it over"));

        await Sql.ExecuteAsync("SELECT relay.delete($1, 'published')", topic);
        await Sql.ExecuteAsync("SELECT relay.attach($1, $2::regclass)", topic, table);
    }

    [TestCase("uuid", true)]
    [TestCase("bigint", true)]
    [TestCase("varchar(40)", false)]
    public async Task Attach_aKeyColumnNotReadByItsIndex_warnsWithTheIndexToCreate_andNotOnceItExists(string type, bool warned)
    {
        // The relay reads rows by the key as text: for a uuid or integer key that read scanned the whole table, silently.
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_key_" + Guid.NewGuid().ToString("N")[..12];
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key {type} PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        var notices = new List<PostgresNotice>();
        connection.Notice += (_, e) => notices.Add(e.Notice);

        await using (var attach = new NpgsqlCommand($"SELECT relay.attach('{topic}', '{table}')", connection))
        {
            await attach.ExecuteNonQueryAsync();
        }
        Assert.That(notices.Select(n => n.Hint), warned ? Is.EqualTo(new[] { $"CREATE UNIQUE INDEX ON {table} ((doc_key::text));" }) : Is.Empty);

        if (warned)
        {
            notices.Clear();
            await Sql.ExecuteAsync($"CREATE UNIQUE INDEX ON {table} ((doc_key::text))");
            await using var again = new NpgsqlCommand($"SELECT relay.attach('{topic}', '{table}')", connection);
            await again.ExecuteNonQueryAsync();
            Assert.That(notices, Is.Empty, "the index named in the hint is found");
        }
    }

    [Test]
    public async Task Attach_aTableWithRowLevelSecurity_warnsThatTheRelayMustSeeEveryRow()
    {
        // Rows a policy hid from the relay's role went out as deletions, silently.
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_rls_" + Guid.NewGuid().ToString("N")[..12];
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await Sql.ExecuteAsync($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY");
        await using var connection = await TestDatabase.DataSource.OpenConnectionAsync();
        var notices = new List<PostgresNotice>();
        connection.Notice += (_, e) => notices.Add(e.Notice);

        await using var attach = new NpgsqlCommand($"SELECT relay.attach('{topic}', '{table}')", connection);
        await attach.ExecuteNonQueryAsync();

        Assert.That(notices.Select(n => (n.Severity, n.MessageText)), Is.EqualTo(new[]
        {
            ("WARNING", $"{table} has row-level security: the relay's role must see every row, or clients are told the rows it cannot see were deleted"),
        }));
    }

    [Test]
    public async Task Attach_whileAWriterCommitsARowWithoutAnOrg_waitsForItAndRaisesRL002()
    {
        // Before, it checked the rows before its trigger waited for the table's writers, and then served that row,
        // without an organisation, to every organisation of a topic that requires one.
        var topic = await TestTopics.CreateAsync(payloadMode: "pointer", requireOrg: true);
        var table = "app_race_" + Guid.NewGuid().ToString("N")[..12];
        await Sql.ExecuteAsync($"CREATE TABLE {table} (doc_key text PRIMARY KEY, org_id text, doc_version bigint, payload jsonb)");
        await using var writer = await TestDatabase.DataSource.OpenConnectionAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table} VALUES ('global', NULL, 1, '{{}}')", writer, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var attaching = Sql.FailsAsync("RL002", "SELECT relay.attach($1, $2::regclass)", topic, table);
        await Eventually.ThatAsync(async () => await Sql.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%relay.attach%'") > 0, "attach to wait for the writer");
        await transaction.CommitAsync();
        var error = await attaching;

        Assert.That(error.MessageText, Does.Contain("has rows whose org_id is null"));
        Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.topics WHERE topic = $1 AND read_model IS NULL", topic), Is.EqualTo(1));
    }
}
