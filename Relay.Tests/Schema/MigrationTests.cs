using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Tests.Schema;

public sealed class MigrationTests
{
    private static SchemaMigrator Migrator() => new(TestDatabase.DataSource, NullLogger<SchemaMigrator>.Instance);

    [Test]
    public async Task Migrate_again_appliesNothing()
    {
        Assert.That(await Migrator().MigrateAsync(), Is.Empty);
    }

    [Test]
    public void Manifest_listsEverySqlFileOfTheRepository()
    {
        var sql = Path.Combine(Repository.Root(), "sql");
        var onDisk = Directory.GetFiles(sql, "*.sql", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(sql, file).Replace('\\', '/'))
            .Where(path => path.StartsWith("migrations/", StringComparison.Ordinal) || path.StartsWith("functions/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.That(SqlScripts.All.Select(s => s.Path).Order(StringComparer.Ordinal), Is.EqualTo(onDisk));
    }

    [Test]
    public async Task Migrate_leavesItsRecordReadableToARelayRoleThatMayNotMigrate()
    {
        // Before, relay migrate made relay.schema_migrations after the DBA's grants to the relay's role, readable by
        // nobody else, and a relay with Relay__AutoMigrate=false then stopped at start with 42501 (ops review O1).
        await Sql.ExecuteAsync("""
            DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_record_reader') THEN CREATE ROLE relay_record_reader LOGIN; END IF; END $$;
            GRANT USAGE ON SCHEMA relay TO relay_record_reader;
            """);
        await AsMigratorAsync("REVOKE ALL ON relay.schema_migrations, relay.schema_generation FROM PUBLIC, relay_record_reader");

        await Migrator().MigrateAsync();

        var reader = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Username = "relay_record_reader", Pooling = false };
        await using var dataSource = NpgsqlDataSource.Create(reader.ConnectionString);
        Assert.That(await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).PendingAsync(), Is.Empty);
    }

    [Test]
    public async Task Migrate_changedFunction_isReappliedAlone()
    {
        await AsMigratorAsync("UPDATE relay.schema_migrations SET checksum = 'stale' WHERE script = 'functions/head.sql'");

        Assert.That(await Migrator().MigrateAsync(), Is.EqualTo(new[] { "functions/head.sql" }));
    }

    [Test]
    public async Task Pending_listsTheFilesNeverApplied_notAFunctionAppliedInAnotherVersion()
    {
        const string script = "functions/head.sql";
        var checksum = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        try
        {
            await AsMigratorAsync("UPDATE relay.schema_migrations SET checksum = 'another version' WHERE script = 'functions/publish.sql'");
            Assert.That(await Migrator().PendingAsync(), Is.Empty);
            await Sql.ExecuteAsync("DELETE FROM relay.schema_migrations WHERE script = $1", script);
            Assert.That(await Migrator().PendingAsync(), Is.EqualTo(new[] { script }));
        }
        finally
        {
            await Migrator().MigrateAsync();
        }
        Assert.That(await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script), Is.EqualTo(checksum));
    }

    [Test]
    public async Task Pending_ofAPsqlInstallOfAnEarlierGeneration_listsTheMigrationsPastIt()
    {
        // Before, any schema a psql install made counted as up to date: a relay with Relay__AutoMigrate=false started on
        // one of an earlier generation, and its feed then failed on every read (upgrade review M4).
        await WithScratchDatabaseAsync(async (target, dataSource) =>
        {
            var (exit, errors) = await PsqlInstallAsync(target);
            Assert.That(exit, Is.Zero, errors);
            var migrator = new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance);
            var migrations = SqlScripts.All.Where(script => !script.Repeatable).Select(script => script.Path).ToArray();
            Assert.That(await migrator.PendingAsync(), Is.Empty);

            await Sql.RowsAsync(dataSource, $"UPDATE relay.schema_generation SET generation = {SchemaMigrator.Generation - 1}");
            Assert.That(await migrator.PendingAsync(), Is.EqualTo(new[] { migrations[^1] }));

            // Installed by a release before install.sql recorded its generation.
            await Sql.RowsAsync(dataSource, "DROP TABLE relay.schema_generation");
            Assert.That(await migrator.PendingAsync(), Is.EqualTo(migrations));
        });
    }

    [Test]
    public async Task Migrate_behindALongTransaction_givesUpAfter5s_changingNothing_andSaysWhatToDo()
    {
        // Before, it waited as long as the transaction lasted, and every publish queued behind its lock (upgrade review M5).
        const string script = "migrations/0007_journal_time.sql";
        var checksum = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        await AsMigratorAsync($"DELETE FROM relay.schema_migrations WHERE script = '{script}'");
        try
        {
            await using var reader = await TestDatabase.DataSource.OpenConnectionAsync();
            await using var transaction = await reader.BeginTransactionAsync();
            await using (var read = new NpgsqlCommand("SELECT count(*) FROM relay.stream_events", reader, transaction))
            {
                await read.ExecuteScalarAsync();
            }

            var error = await Assert.ThrowsAsync<Relay.Core.Provisioning.ProvisioningException>(() => Migrator().MigrateAsync());

            Assert.That(error!.Message, Does.StartWith("the relay schema's migration waited 5 s for a lock"));
            Assert.That(await Sql.ScalarAsync<long>("SELECT count(*) FROM relay.schema_migrations WHERE script = $1", script), Is.Zero);
        }
        finally
        {
            Assert.That(await Migrator().MigrateAsync(), Is.EqualTo(new[] { script }));
            Assert.That(await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script), Is.EqualTo(checksum));
        }
    }

    [Test]
    public async Task Migrate_editedMigration_failsLoudly()
    {
        const string script = "migrations/0002_v1_topics.sql";
        var original = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        await AsMigratorAsync($"UPDATE relay.schema_migrations SET checksum = 'edited' WHERE script = '{script}'");
        try
        {
            var error = await Assert.ThrowsAsync<Relay.Core.Provisioning.ProvisioningException>(() => Migrator().MigrateAsync());
            Assert.That(error!.Message, Does.StartWith($"migration sql/{script} of this relay differs from the copy this database applied"));
        }
        finally
        {
            await AsMigratorAsync($"UPDATE relay.schema_migrations SET checksum = '{original}' WHERE script = '{script}'");
        }
    }

    [Test]
    public async Task Migrate_aSchemaThatRanTheEarlierCopyOf0007_takesItAsApplied_andGetsTheInsertedAtIndexBack()
    {
        // That copy dropped the journal's (inserted_at) index (upgrade review H1); 0007 was edited to keep it, and 0008
        // builds it where it is gone. Before, such a schema's record stopped every relay migrate: "changed after it was applied".
        const string script = "migrations/0007_journal_time.sql";
        var current = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        await AsMigratorAsync($"""
            DROP INDEX relay.stream_events_inserted_at_idx;
            UPDATE relay.schema_migrations SET checksum = '0ea7b4a858a6ced74c0dd911b18f547db9e31c495de686df3ec0c2c2d4b7d394' WHERE script = '{script}';
            DELETE FROM relay.schema_migrations WHERE script = 'migrations/0008_journal_time_index.sql';
            """);

        Assert.That(await Migrator().MigrateAsync(), Is.EqualTo(new[] { "migrations/0008_journal_time_index.sql" }));
        Assert.That(await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script), Is.EqualTo(current));
        Assert.That(await Sql.ScalarAsync<bool>("SELECT to_regclass('relay.stream_events_inserted_at_idx') IS NOT NULL"), Is.True);
    }

    [Test]
    public async Task PsqlInstall_runAgain_neitherDropsNorRebuildsAnIndexOfTheJournal()
    {
        // Before, 0001 built the (inserted_at) index again and 0007 dropped it on every run: on a large journal, a build
        // that held every publish of every topic (upgrade review H1), and the index the contract requires was gone.
        await WithScratchDatabaseAsync(async (target, dataSource) =>
        {
            const string indexes = "SELECT indexrelid::regclass::text, indexrelid::int8 FROM pg_index WHERE indrelid = 'relay.stream_events'::regclass ORDER BY 1";
            var first = await PsqlInstallAsync(target);
            Assert.That(first.Exit, Is.Zero, first.Errors);
            var before = await Sql.RowsAsync(dataSource, indexes);

            var again = await PsqlInstallAsync(target);

            Assert.That(again.Exit, Is.Zero, again.Errors);
            Assert.That(await Sql.RowsAsync(dataSource, indexes), Is.EqualTo(before));
            Assert.That(before.Select(row => row[0]), Does.Contain("relay.stream_events_inserted_at_idx"));
        });
    }

    [Test]
    public async Task Migrate_recordsTheGenerationOfTheRelayThatMigrated()
    {
        Assert.That(await Sql.ScalarAsync<int>("SELECT generation FROM relay.schema_generation"), Is.EqualTo(SchemaMigrator.Generation));
    }

    [TestCase(null)]
    [TestCase(-1)]
    public async Task OlderMigrator_changingTheRecord_isRefused_andPutsNoFunctionBack(int? generationBelow)
    {
        // What every relay before the guard does at start on a schema a later one migrated: re-apply its own copy of
        // each function file whose checksum differs, and record it. Before, relay.head came back as the older copy.
        var setting = generationBelow is { } below ? $"SELECT set_config('relay.migrator_generation', '{SchemaMigrator.Generation + below}', true);" : "";
        var head = await Sql.ScalarAsync<string>("SELECT prosrc FROM pg_proc WHERE oid = 'relay.head(text)'::regprocedure");

        var error = await Sql.FailsAsync("55000", $"""
            {setting}
            CREATE OR REPLACE FUNCTION relay.head(p_topic text) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 0::bigint';
            INSERT INTO relay.schema_migrations (script, checksum) VALUES ('functions/head.sql', 'older')
                ON CONFLICT (script) DO UPDATE SET checksum = excluded.checksum, applied_at = now();
            """);

        Assert.That(error.Hint, Does.Contain("Relay__AutoMigrate=false"));
        Assert.That(await Sql.ScalarAsync<string>("SELECT prosrc FROM pg_proc WHERE oid = 'relay.head(text)'::regprocedure"), Is.EqualTo(head));
        Assert.That(await Migrator().MigrateAsync(), Is.Empty);
    }

    [Test]
    public async Task SchemaWithoutItsPublication_feedSaysToMigrate_andMigrateCreatesIt()
    {
        // What a restore of the relay schema alone leaves: before, migrate said "up to date", /readyz said ready, and the
        // feed failed at every write.
        await WithScratchDatabaseAsync(async (target, dataSource) =>
        {
            var migrator = new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance);
            await migrator.MigrateAsync();
            await using (var relay = await CoreHarness.StartAsync(connectionString: target.ConnectionString))
            {
                await Sql.RowsAsync(dataSource, "DROP PUBLICATION relay_journal");
                await Sql.RowsAsync(dataSource, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = current_database()");

                await Eventually.ThatAsync(() => relay.Feed.Status.Problem?.Contains("publication relay_journal is missing", StringComparison.Ordinal) == true,
                    "the feed to say the publication is missing");
                Assert.That(relay.Feed.Status.Problem, Does.Contain("run relay migrate"));

                Assert.That(await migrator.MigrateAsync(), Is.EqualTo(new[] { "migrations/0003_publication.sql" }));
                await Eventually.ThatAsync(() => relay.Feed.Status.Streaming, "the feed to stream again");
            }
            Assert.That(await migrator.MigrateAsync(), Is.Empty);
        });
    }

    [Test]
    public async Task PsqlInstall_thenRelayMigrate_recordsEveryFileAndTheGeneration_andRefusesAnOlderMigrator()
    {
        await WithScratchDatabaseAsync(async (target, dataSource) =>
        {
            // The guard's trigger lives on the migrator's record, which a psql install does not create.
            var (exit, errors) = await PsqlInstallAsync(target);
            Assert.That(exit, Is.Zero, errors);

            Assert.That(await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync(), Has.Count.EqualTo(SqlScripts.All.Count));
            Assert.That(await Sql.RowsAsync(dataSource, "SELECT generation FROM relay.schema_generation"),
                Is.EqualTo(new[] { new object?[] { SchemaMigrator.Generation } }));
            var error = await Assert.ThrowsAsync<PostgresException>(() => Sql.RowsAsync(dataSource,
                "UPDATE relay.schema_migrations SET checksum = 'older' WHERE script = 'functions/head.sql'"));
            Assert.That(error!.SqlState, Is.EqualTo("55000"));
        });
    }

    [Test]
    public async Task PsqlInstall_overASchemaOfALaterGeneration_isRefused_andPutsNoFunctionBack()
    {
        // Before, an older install.sql run by psql put its functions back silently, and relay migrate then said up to date.
        await WithScratchDatabaseAsync(async (target, dataSource) =>
        {
            await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
            await Sql.RowsAsync(dataSource, $"UPDATE relay.schema_generation SET generation = {SchemaMigrator.Generation + 1}");
            await Sql.RowsAsync(dataSource, "CREATE OR REPLACE FUNCTION relay.head(p_topic text) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 42::bigint'");

            var (exit, errors) = await PsqlInstallAsync(target);

            Assert.That(exit, Is.Not.Zero);
            Assert.That(errors, Does.Contain($"this sql/install.sql is of schema generation {SchemaMigrator.Generation}, and the database's schema is of generation {SchemaMigrator.Generation + 1}"));
            Assert.That(await Sql.RowsAsync(dataSource, "SELECT relay.head('x')"), Is.EqualTo(new[] { new object?[] { 42L } }), "the later release's function stays");
        });
    }

    [Test]
    public void InstallSql_saysThisRelaysGeneration()
    {
        var install = File.ReadAllText(Path.Combine(Repository.Root(), "sql", "install.sql"));
        var generations = System.Text.RegularExpressions.Regex.Matches(install, @"generation (\d+)|> (\d+) THEN|VALUES \((\d+)\)")
            .Select(match => match.Groups.Values.Skip(1).First(group => group.Success).Value).Distinct();

        Assert.That(generations, Is.EqualTo(new[] { SchemaMigrator.Generation.ToString(CultureInfo.InvariantCulture) }));
    }

    /// <summary>Runs <paramref name="test"/> on a database of its own, with no relay schema, dropped afterwards.</summary>
    private static async Task WithScratchDatabaseAsync(Func<NpgsqlConnectionStringBuilder, NpgsqlDataSource, Task> test)
    {
        var name = $"relay_scratch_{Guid.NewGuid():N}";
        await Sql.ExecuteAsync($"CREATE DATABASE {name}");
        try
        {
            var target = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Database = name, Pooling = false };
            await using var dataSource = NpgsqlDataSource.Create(target.ConnectionString);
            await test(target, dataSource);
        }
        finally
        {
            await Sql.ExecuteAsync($"DROP DATABASE {name} WITH (FORCE)");
        }
    }

    /// <summary>Runs <c>psql -f sql/install.sql</c> as this user (a DBA's, who can read the repository; the postgres user may not).</summary>
    private static async Task<(int Exit, string Errors)> PsqlInstallAsync(NpgsqlConnectionStringBuilder target)
    {
        using var install = Process.Start(new ProcessStartInfo(Path.Combine(PostgresBinaries.Find()!, "psql"), [
            "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-h", target.Host!, "-p", target.Port.ToString(CultureInfo.InvariantCulture),
            "-U", target.Username!, "-d", target.Database!, "-f", Path.Combine(Repository.Root(), "sql", "install.sql")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var errors = install.StandardError.ReadToEndAsync();
        await install.StandardOutput.ReadToEndAsync();
        await install.WaitForExitAsync();
        return (install.ExitCode, await errors);
    }

    /// <summary>Runs <paramref name="sql"/> as this relay's migrator does: saying its generation.</summary>
    private static Task AsMigratorAsync(string sql) =>
        Sql.ExecuteAsync($"SELECT set_config('relay.migrator_generation', '{SchemaMigrator.Generation}', true); {sql}");
}
