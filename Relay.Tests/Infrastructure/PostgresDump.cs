using Npgsql;
using Relay.Host.Development;

namespace Relay.Tests;

/// <summary>
/// A backup of one database taken with <c>pg_dump</c> (custom format) and restored the way a DBA would: drop the database
/// (<c>dropdb --force</c>), create it again, <c>pg_restore</c>. The tools come from the local PostgreSQL binaries and run as
/// the <c>postgres</c> OS user when the tests run as root.
/// </summary>
public sealed class PostgresDump(string connectionString)
{
    private readonly NpgsqlConnectionStringBuilder _target = new(connectionString);
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"relay-dump-{Guid.NewGuid():N}.dump");

    /// <summary>Dumps the database to a file, replacing an earlier dump.</summary>
    public async Task DumpAsync()
    {
        await RunAsync("pg_dump", ["--format=custom", $"--file={_file}", ..Connection(), _target.Database!]);
        Assert.That(File.Exists(_file), Is.True, "pg_dump wrote the dump");
    }

    /// <summary>Drops the database, even with sessions on it, creates it again and restores the dump into it.</summary>
    public async Task RestoreAsync()
    {
        try
        {
            await RunAsync("dropdb", ["--force", ..Connection(), _target.Database!]);
            await RunAsync("createdb", [..Connection(), _target.Database!]);
            await RunAsync("pg_restore", ["--exit-on-error", ..Connection(), $"--dbname={_target.Database}", _file]);
        }
        finally
        {
            File.Delete(_file);
        }
    }

    private string[] Connection() => [$"--host={_target.Host}", $"--port={_target.Port}", $"--username={_target.Username}"];

    private static Task<string> RunAsync(string tool, IReadOnlyList<string> arguments)
    {
        var binaries = PostgresBinaries.Find() ?? throw new InvalidOperationException("no PostgreSQL binaries on this machine");
        return ProcessRunner.RunAsync(Path.Combine(binaries, tool), arguments);
    }
}
