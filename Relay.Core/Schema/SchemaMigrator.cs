using Microsoft.Extensions.Logging;
using Npgsql;

namespace Relay.Core.Schema;

/// <summary>
/// Applies <see cref="SqlScripts.All"/> in order inside one transaction under an advisory lock, so that several relays
/// starting at once migrate once. Each applied file is recorded in <c>relay.schema_migrations</c> with its checksum.
/// </summary>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, ILogger<SchemaMigrator> logger)
{
    /// <summary>The migration that creates the replication feed's publication; applied again whenever it is missing.</summary>
    private const string PublicationScript = "migrations/0003_publication.sql";

    /// <summary>How long the migration waits for a lock on a relay table before it gives up, changing nothing.</summary>
    private const string LockTimeoutSeconds = "5";

    private const string Bootstrap = $$"""
        SELECT pg_advisory_xact_lock(hashtext('relay.migrate'));
        SET LOCAL lock_timeout = '{{LockTimeoutSeconds}}s';
        CREATE SCHEMA IF NOT EXISTS relay;
        CREATE TABLE IF NOT EXISTS relay.schema_migrations (
            script     text        PRIMARY KEY,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>
    /// Migrations edited after a schema may have applied them, in ways that need nothing run again there, with the
    /// checksums of their earlier copies: a schema that recorded one of those is up to date with the file, and its record
    /// takes the file's checksum. Any other edit of an applied migration is refused.
    /// </summary>
    private static readonly Dictionary<string, string[]> EarlierCopies = new(StringComparer.Ordinal)
    {
        // A comment reworded on 2026-12-03.
        ["migrations/0006_writers_execute.sql"] = ["42f79aa443379cf27a1b49dc3d3e219777b277fc8f028a158ed941d2fc7c4089"],
        // It also dropped the journal's (inserted_at) index, which the contract requires: 0008_journal_time_index.sql
        // builds it again.
        ["migrations/0007_journal_time.sql"] = ["0ea7b4a858a6ced74c0dd911b18f547db9e31c495de686df3ec0c2c2d4b7d394"],
    };

    /// <summary>
    /// This relay's schema generation: the number of migrations it knows. A schema migrated by a relay of a higher one
    /// refuses this relay's migration (<c>sql/migrations/0005_migrator_guard.sql</c>), so that it cannot put its older
    /// functions back; a release that changes a function file in a way an older copy must not undo therefore adds a
    /// migration, if only to raise the generation.
    /// </summary>
    public static int Generation { get; } = SqlScripts.All.Count(script => !script.Repeatable);

    /// <summary>Brings the schema up to date; returns the paths of the files it applied (none when up to date).</summary>
    /// <exception cref="Provisioning.ProvisioningException">
    /// A migration changed after it was applied, or a lock the migration needs was held for 5 s by another transaction.
    /// </exception>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await MigrateOnceAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // Waiting longer would hold every writer queued behind the migration's lock as long as the transaction in
            // its way lasts.
            throw new Provisioning.ProvisioningException(
                $"the relay schema's migration waited {LockTimeoutSeconds} s for a lock ({e.MessageText}) and changed nothing: a long transaction holds a " +
                "relay table (pg_stat_activity shows it, with its pid); migrate again once it ends", e);
        }
    }

    private async Task<IReadOnlyList<string>> MigrateOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var bootstrap = new NpgsqlCommand(Bootstrap, connection, transaction))
        {
            await bootstrap.ExecuteNonQueryAsync(cancellationToken);
        }
        // Which relay migrates, for relay.refuse_older_migrator: a schema a later relay migrated refuses this one's record.
        await using (var generation = new NpgsqlCommand("SELECT set_config('relay.migrator_generation', $1, true)", connection, transaction))
        {
            generation.Parameters.AddWithValue(Generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await generation.ExecuteNonQueryAsync(cancellationToken);
        }

        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT script, checksum FROM relay.schema_migrations", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                recorded[reader.GetString(0)] = reader.GetString(1);
            }
        }

        async Task RecordAsync(SqlScript script)
        {
            await using var record = new NpgsqlCommand(
                "INSERT INTO relay.schema_migrations (script, checksum) VALUES ($1, $2) " +
                "ON CONFLICT (script) DO UPDATE SET checksum = excluded.checksum, applied_at = now()", connection, transaction);
            record.Parameters.AddWithValue(script.Path);
            record.Parameters.AddWithValue(script.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new List<string>();
        foreach (var script in SqlScripts.All)
        {
            if (recorded.TryGetValue(script.Path, out var checksum))
            {
                if (checksum == script.Checksum)
                {
                    continue;
                }
                if (!script.Repeatable)
                {
                    if (!EarlierCopies.TryGetValue(script.Path, out var earlier) || !earlier.Contains(checksum))
                    {
                        throw new Provisioning.ProvisioningException(
                            $"migration sql/{script.Path} of this relay differs from the copy this database applied (relay.schema_migrations " +
                            "holds another checksum), and nothing was changed: migrate with the release that applied it; a release adds a " +
                            "migration instead of editing one");
                    }
                    await RecordAsync(script);
                    continue;
                }
            }
            await using (var apply = new NpgsqlCommand(script.Text, connection, transaction))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }
            await RecordAsync(script);
            Log.Applied(logger, script.Path);
            applied.Add(script.Path);
        }
        // The one object of the schema that lives outside it: a restore of the relay schema alone (pg_dump -n relay)
        // leaves the publication out, and its migration, recorded, would never run again.
        var publication = SqlScripts.All.Single(script => script.Path == PublicationScript);
        if (!applied.Contains(publication.Path))
        {
            await using var missing = new NpgsqlCommand("SELECT NOT EXISTS (SELECT FROM pg_publication WHERE pubname = $1)", connection, transaction);
            missing.Parameters.AddWithValue(Feeds.FeedOptions.Publication);
            if ((bool)(await missing.ExecuteScalarAsync(cancellationToken))!)
            {
                await using var apply = new NpgsqlCommand(publication.Text, connection, transaction);
                await apply.ExecuteNonQueryAsync(cancellationToken);
                Log.Applied(logger, publication.Path);
                applied.Add(publication.Path);
            }
        }
        await using (var record = new NpgsqlCommand(
            "INSERT INTO relay.schema_generation (generation) VALUES ($1) " +
            "ON CONFLICT (only_row) DO UPDATE SET generation = greatest(relay.schema_generation.generation, excluded.generation)", connection, transaction))
        {
            record.Parameters.AddWithValue(Generation);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        // A relay that may not migrate (Relay__AutoMigrate=false) reads the record at start. Made here, after the DBA
        // granted the relay's role SELECT on the schema's tables, it was readable by nobody else, and every such relay
        // then refused to start. It names files and checksums only; USAGE on the schema still decides who reaches it.
        await using (var readable = new NpgsqlCommand(
            "GRANT SELECT ON relay.schema_migrations, relay.schema_generation TO PUBLIC", connection, transaction))
        {
            await readable.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        Log.UpToDate(logger, applied.Count);
        return applied;
    }

    /// <summary>
    /// The files of this relay never applied to the database, without applying or creating anything: every file when
    /// the schema was never installed. Of a schema installed with <c>psql -f sql/install.sql</c>, which records no file,
    /// the migrations past the generation it recorded (none recorded: every migration, as install.sql records it since
    /// generation 6). A function file applied in another version is not counted: whether it is older or newer than this
    /// relay's cannot be told, and a relay older than the schema must keep starting during a rolling upgrade.
    /// </summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var installed = new NpgsqlCommand(
            "SELECT to_regclass('relay.schema_migrations') IS NOT NULL, to_regclass('relay.topics') IS NOT NULL, " +
            "to_regclass('relay.schema_generation') IS NOT NULL", connection);
        bool recordsMigrations, hasTopics, recordsGeneration;
        await using (var reader = await installed.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (recordsMigrations, hasTopics, recordsGeneration) = (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2));
        }
        if (!recordsMigrations)
        {
            if (!hasTopics)
            {
                return [.. SqlScripts.All.Select(script => script.Path)];
            }
            var generation = 0;
            if (recordsGeneration)
            {
                await using var read = new NpgsqlCommand("SELECT coalesce(max(generation), 0) FROM relay.schema_generation", connection);
                generation = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
            }
            return [.. SqlScripts.All.Where(script => !script.Repeatable).Skip(generation).Select(script => script.Path)];
        }
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        await using var select = new NpgsqlCommand("SELECT script FROM relay.schema_migrations", connection);
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                recorded.Add(reader.GetString(0));
            }
        }
        return [.. SqlScripts.All.Where(script => !recorded.Contains(script.Path)).Select(script => script.Path)];
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.RelayEventIds.Schema + 1, LogLevel.Information, "Applied sql/{Script}")]
        public static partial void Applied(ILogger logger, string script);

        [LoggerMessage(Diagnostics.RelayEventIds.Schema + 2, LogLevel.Information, "Schema is up to date ({Count} files applied)")]
        public static partial void UpToDate(ILogger logger, int count);
    }
}
