using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using Relay.Core.Schema;
using Relay.Host.Development;

namespace Relay.Tests.Feeds;

public sealed class ReplicationFailureTests
{
    private const string RelaySlots = "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'relay\\_%'";

    [Test]
    public async Task ReplicationFeed_walsenderTerminatedMidStream_reconnectsWithoutLossOrDuplicate()
    {
        var topics = new[] { await TestTopics.CreateAsync(), await TestTopics.CreateAsync() };
        using var reconnects = new MeasurementRecorder("relay.feed.reconnects");
        await using var relay = await CoreHarness.StartAsync();

        var writers = Writers.RunAsync(TestDatabase.ConnectionString, topics, writers: 4, perWriter: 400);
        await relay.WaitForHeadAsync(topics[0], 50);
        await Sql.ExecuteAsync("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE 'relay\\_%' AND active");
        await writers;

        await AssertLogsEqualJournalAsync(relay, topics, TestDatabase.DataSource);
        Assert.That(reconnects.Total(), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task ReplicationFeed_reconnectingToAJournalThatLostCommits_countsAJournalRewrite()
    {
        var topic = await TestTopics.CreateAsync();
        using var rewrites = new MeasurementRecorder("relay.feed.journal_rewrites");
        await using var relay = await CoreHarness.StartAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 3) i", topic);
        await relay.WaitForHeadAsync(topic, 3);

        // What a failover to an asynchronous standby leaves: the last commit the relay delivered is gone, and its
        // watermarks go to the next writers.
        await Sql.ExecuteAsync("DELETE FROM relay.stream_events WHERE topic = $1 AND watermark > 1", topic);
        await Sql.ExecuteAsync("UPDATE relay.topics SET head_watermark = 1 WHERE topic = $1", topic);
        await Sql.ExecuteAsync("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE 'relay\\_%' AND active");

        // Before, nothing said so: the relay went on dropping the reused watermarks as repeats, silently unless its ring
        // still held the old events.
        await Eventually.ThatAsync(() => rewrites.Total([topic]) == 1, "the lost commits counted");
    }

    [Test]
    public async Task ReplicationFeed_postgresRestartedMidStream_resumesWithoutLossOrDuplicate()
    {
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-restart-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        var topics = new[] { "restart.a", "restart.b" };
        foreach (var topic in topics)
        {
            await using var create = dataSource.CreateCommand($"SELECT relay.create_topic('{topic}', 'inline', '7 days', false)");
            await create.ExecuteNonQueryAsync();
        }
        await using var relay = await CoreHarness.StartAsync(connectionString: database.ConnectionString);

        var writers = Writers.RunAsync(database.ConnectionString, topics, writers: 4, perWriter: 300, retry: true);
        await relay.WaitForHeadAsync(topics[0], 50);
        await database.RestartAsync();
        await writers;
        dataSource.Clear(); // its idle connections died with the server

        await AssertLogsEqualJournalAsync(relay, topics, dataSource);
    }

    [Test]
    public async Task ReplicationFeed_afterAPostgresRestart_saysTheServerEndedTheStream_andNeverRetriesOnAConnectionItClosed()
    {
        await using var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-restart-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }
        // Read from the log, not by sampling the feed's status: the next connect attempt overwrites the status at once.
        using var log = new FakeLoggerProvider();
        using var loggers = new LoggerFactory([log]);
        await using var relay = await CoreHarness.StartAsync(connectionString: database.ConnectionString, loggers: loggers);
        await Eventually.ThatAsync(() => relay.Feed.Status.Streaming, "the feed to stream");

        await database.RestartAsync();
        await Eventually.ThatAsync(() => relay.Feed.Status.Streaming && log.Collector.GetSnapshot().Any(r => r.Message.Contains("lost its connection", StringComparison.Ordinal)),
            "the feed to stream again");

        var records = log.Collector.GetSnapshot();
        var lines = string.Join("\n", records.Select(r => r.Message));
        // The feed's own pooled connections died with the server: a connect that took one failed with 57P01 and waited.
        Assert.Multiple(() =>
        {
            Assert.That(records.Where(r => r.Message.Contains("could not connect", StringComparison.Ordinal)).Select(r => r.Message), Has.None.Contains("57P01"), lines);
            // Npgsql takes the end of the stream at a fast shutdown for a protocol error ("Please file a bug", npgsql#5752).
            Assert.That(records.Select(r => r.Message), Has.Some.Contains("lost its connection: PostgreSQL ended the replication stream"), lines);
            Assert.That(records.Select(r => r.Message), Has.None.Contains("Please file a bug"), lines);
        });
    }

    [Test]
    public async Task ReplicationFeed_stopped_leavesNoSlot()
    {
        await using (var relay = await CoreHarness.StartAsync())
        {
            Assert.That(await Sql.ScalarAsync<long>(RelaySlots), Is.EqualTo(1));
        }

        await Eventually.ThatAsync(async () => await Sql.ScalarAsync<long>(RelaySlots) == 0, "the slot to go");
    }

    [Test]
    public async Task RelayProcess_killed_leavesNoSlot()
    {
        Assert.That(await Sql.ScalarAsync<long>(RelaySlots), Is.Zero, "no other relay runs on the test database");
        var relayDll = Path.Combine(TestContext.CurrentContext.TestDirectory, "relay.dll");
        using var relay = Process.Start(new ProcessStartInfo("dotnet",
            [relayDll, "serve", "--connection-string", TestDatabase.ConnectionString, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["Relay__Auth__Keys__test"] = Convert.ToBase64String(new byte[32]) },
        })!;
        try
        {
            await Eventually.ThatAsync(async () => relay.HasExited || await Sql.ScalarAsync<long>(RelaySlots) == 1, "the relay's slot");
            Assert.That(relay.HasExited, Is.False, "the relay is running");
        }
        finally
        {
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync();
        }

        await Eventually.ThatAsync(async () => await Sql.ScalarAsync<long>(RelaySlots) == 0, "the killed relay's slot to go");
    }

    [Test]
    public async Task RelayProcess_pausedLongerThanWalSenderTimeout_reconnects_andSaysWhyInOneLine()
    {
        // PostgreSQL ends a walsender its relay has not answered within wal_sender_timeout (a relay stalled by a GC pause,
        // a frozen container, SIGSTOP). Before, the reconnection was logged with Npgsql's NullReferenceException and its
        // stack trace, which read as a crash of the relay and named no cause (ops review O8).
        var port = FreePort.Next();
        var connectionString = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Options = "-c wal_sender_timeout=3s" }.ConnectionString;
        await using var relay = Cli.RelayProcess.Start(
            ["serve", "--connection-string", connectionString, "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string>
            {
                [$"Relay__Auth__Keys__{RelayServerHarness.Key.KeyId}"] = RelayServerHarness.Key.SecretBase64,
                ["Relay__AutoMigrate"] = "false",
            });
        await relay.WaitReadyAsync(port);

        // Past Npgsql's and the relay's 10 s status updates: at SIGCONT one is due, and when it finds the pipe broken
        // before the reader finds the stream closed, Npgsql's reader fails with its NullReferenceException.
        await SignalAsync(relay.Id, "STOP");
        await Task.Delay(TimeSpan.FromSeconds(11));
        await SignalAsync(relay.Id, "CONT");

        await Eventually.ThatAsync(() => relay.Output.Split("The replication feed is streaming").Length > 2, "the feed to stream again");
        var lost = relay.Output[relay.Output.IndexOf("[1202]", StringComparison.Ordinal)..];
        Assert.That(lost, Does.Contain("The replication feed lost its connection: "));
        Assert.That(System.Text.RegularExpressions.Regex.IsMatch(lost, @"^\s+at ", System.Text.RegularExpressions.RegexOptions.Multiline), Is.False, lost);
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    private static async Task AssertLogsEqualJournalAsync(CoreHarness relay, IEnumerable<string> topics, NpgsqlDataSource dataSource)
    {
        foreach (var topic in topics)
        {
            await using var head = dataSource.CreateCommand($"SELECT head_watermark FROM relay.topics WHERE topic = '{topic}'");
            await relay.WaitForHeadAsync(topic, (long)(await head.ExecuteScalarAsync())!);
            var journal = await Writers.JournalAsync(topic, dataSource);
            var ring = relay.Ring(topic).Select(e => (e.Watermark, e.DocKey, e.DocVersion, (string?)Encoding.UTF8.GetString(e.Payload!)));
            Assert.That(ring, Is.EqualTo(journal), topic);
        }
    }
}
