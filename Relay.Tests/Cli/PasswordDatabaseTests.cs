using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Host.Development;

namespace Relay.Tests.Cli;

/// <summary>
/// A database that asks for a password, as any deployed one does: every connection the relay opens, the feed's own
/// included, must carry the connection string's password.
/// </summary>
public sealed class PasswordDatabaseTests
{
    private const string Role = "relay_pw";
    private const string Password = "s3cret-pw";
    private ProvisionedDatabase _cluster = null!;

    [OneTimeSetUp]
    public async Task StartClusterThatAsksForAPassword()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"relay-pw-{Guid.NewGuid():N}");
        _cluster = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = directory, Durable = false }, NullLogger.Instance);
        await using (var connection = new NpgsqlConnection(_cluster.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var sql in new[]
            {
                $"CREATE ROLE {Role} LOGIN REPLICATION PASSWORD '{Password}'",
                $"CREATE DATABASE {Role} OWNER {Role}",
            })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }
        // The superuser the test uses keeps trust; the relay's role must give its password, for queries and replication.
        await File.WriteAllTextAsync(Path.Combine(directory, "data", "pg_hba.conf"), $"""
            host all postgres 127.0.0.1/32 trust
            host all {Role} 127.0.0.1/32 scram-sha-256
            host replication {Role} 127.0.0.1/32 scram-sha-256
            """);
        await _cluster.RestartAsync();
    }

    [OneTimeTearDown]
    public async Task StopCluster() => await _cluster.DisposeAsync();

    [TestCase("replication")]
    [TestCase("notify")]
    public async Task Serve_databaseAsksForAPassword_feedStreamsAndRelayIsReady(string feed)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(_cluster.ConnectionString)
        {
            Username = Role, Password = Password, Database = Role,
        }.ConnectionString;
        var port = FreePort.Next();
        await using var relay = RelayProcess.Start(
            ["serve", "--connection-string", connectionString, "--feed", feed, "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string> { ["Relay__Auth__Keys__k1"] = RelayProcess.Key });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Ready means the database answers and the feed streams; before the fix the feed's connection had no password.
        await Eventually.ThatAsync(async () => relay.HasExited || await ReadyAsync(http), "the relay to be ready");

        Assert.That(relay.HasExited, Is.False, relay.Error);
        Assert.That(relay.Output + relay.Error, Does.Not.Contain("No password has been provided"));
    }

    private static async Task<bool> ReadyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/readyz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
