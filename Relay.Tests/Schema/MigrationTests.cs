using Microsoft.Extensions.Logging.Abstractions;
using Relay.Core.Schema;

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
        var sql = Path.Combine(RepositoryRoot(), "sql");
        var onDisk = Directory.GetFiles(sql, "*.sql", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(sql, file).Replace('\\', '/'))
            .Where(path => path.StartsWith("migrations/", StringComparison.Ordinal) || path.StartsWith("functions/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.That(SqlScripts.All.Select(s => s.Path).Order(StringComparer.Ordinal), Is.EqualTo(onDisk));
    }

    [Test]
    public async Task Migrate_changedFunction_isReappliedAlone()
    {
        await Sql.ExecuteAsync("UPDATE relay.schema_migrations SET checksum = 'stale' WHERE script = 'functions/head.sql'");

        Assert.That(await Migrator().MigrateAsync(), Is.EqualTo(new[] { "functions/head.sql" }));
    }

    [Test]
    public async Task Pending_listsTheFilesNeverApplied_notAFunctionAppliedInAnotherVersion()
    {
        const string script = "functions/head.sql";
        var checksum = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        try
        {
            await Sql.ExecuteAsync("UPDATE relay.schema_migrations SET checksum = 'another version' WHERE script = 'functions/publish.sql'");
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
    public async Task Migrate_editedMigration_failsLoudly()
    {
        const string script = "migrations/0002_v1_topics.sql";
        var original = await Sql.ScalarAsync<string>("SELECT checksum FROM relay.schema_migrations WHERE script = $1", script);
        await Sql.ExecuteAsync("UPDATE relay.schema_migrations SET checksum = 'edited' WHERE script = $1", script);
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrator().MigrateAsync());
            Assert.That(error!.Message, Does.Contain(script));
        }
        finally
        {
            await Sql.ExecuteAsync("UPDATE relay.schema_migrations SET checksum = $1 WHERE script = $2", original, script);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "relay.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("relay.sln not found above the test directory");
    }
}
