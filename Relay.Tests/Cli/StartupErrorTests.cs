using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Relay.Host.Cli;
using Relay.Host.Development;

namespace Relay.Tests.Cli;

/// <summary>Each expected start-up failure ends <c>relay serve</c> with exit code 1 and one line saying what to do.</summary>
public sealed class StartupErrorTests
{
    private static Dictionary<string, string> WithKey => new() { ["Relay__Auth__Keys__k1"] = RelayProcess.Key };

    [Test]
    public async Task Serve_noKey_saysHowToConfigureOne()
    {
        var run = await ServeAsync([], environment: []);

        AssertOneLine(run, "Relay:Auth configures no key", "Relay:Auth:Keys:<kid>");
    }

    [Test]
    public async Task Serve_shortKey_saysHowToMakeALongerOne()
    {
        var run = await ServeAsync([], environment: new() { ["Relay__Auth__Keys__k1"] = "c2hvcnQ=" });

        AssertOneLine(run, "HS256 needs at least 256", "openssl rand -base64 32");
    }

    [Test]
    public async Task Serve_databaseDown_saysItCannotReachIt()
    {
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres"]);

        AssertOneLine(run, "cannot reach PostgreSQL", "is it running?");
    }

    [Test]
    public async Task Serve_unknownDatabase_saysToCreateIt()
    {
        var run = await ServeAsync(["--connection-string", With(database: "no_such_database")]);

        AssertOneLine(run, "database \"no_such_database\" does not exist", "createdb");
    }

    [Test]
    public async Task Serve_unknownRole_saysToCreateIt()
    {
        var run = await ServeAsync(["--connection-string", With(user: "no_such_role")]);

        AssertOneLine(run, "role \"no_such_role\" does not exist", "create the role");
    }

    [Test]
    public async Task Serve_withoutAutoMigrate_onADatabaseWithoutTheSchema_saysToMigrate()
    {
        var database = await EmptyDatabaseAsync();
        var environment = new Dictionary<string, string>(WithKey) { ["Relay__AutoMigrate"] = "false" };

        var run = await ServeAsync(["--connection-string", With(database: database), "--feed", "notify"], environment);

        AssertOneLine(run, "the relay schema in this database is missing or older than this relay", "run relay migrate");
    }

    [TestCase("status")]
    [TestCase("probe")]
    public async Task AnyVerb_logLevelThatIsNoLevel_isOneLine_notAStackTrace(string verb)
    {
        // The log levels were read before any verb ran, outside the one-line failures: relay probe, the container's
        // health check, ended in a stack trace too.
        var run = await RelayProcess.RunAsync([verb], new Dictionary<string, string>(WithKey) { ["Logging__LogLevel__Default"] = "Verbose" });

        AssertOneLine(run, "invalid configuration: Configuration value 'Verbose' is not supported", "takes Trace, Debug, Information, Warning, Error, Critical or None");
    }

    [Test]
    public void DatabaseCertificateNotTrusted_isDescribedWithItsCauseAndWhatToGive()
    {
        // What Npgsql throws for sslmode=verify-full against a certificate this host does not trust. Before, the line
        // was "database error: Exception while performing SSL handshake", naming neither cause nor remedy.
        var failure = new NpgsqlException("Exception while performing SSL handshake",
            new System.Security.Authentication.AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot"));

        Assert.That(ExpectedFailure.Describe(failure), Is.EqualTo(
            "database error: Exception while performing SSL handshake: The remote certificate is invalid because of errors in the certificate chain: " +
            "UntrustedRoot: give the certificate authority that signed the server's certificate as Root Certificate=<ca.pem> in the connection " +
            "string (sslrootcert in a URL), or lower SSL Mode (sslmode)"));
    }

    [Test]
    public void SettingsFileThatIsNoJson_isDescribedWithTheFileAndWhereItBreaks()
    {
        var file = Path.Combine(Path.GetTempPath(), $"relay-settings-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "{\n  \"Logging\": {\n    \"LogLevel\": { \"Default\": \"Warning\" \n}");
        try
        {
            var failure = Assert.Catch(() => new ConfigurationBuilder().AddJsonFile(file).Build());

            Assert.That(ExpectedFailure.Describe(failure!), Does.StartWith($"invalid configuration: Failed to load configuration from file '{file}'")
                .And.Contain("LineNumber"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestCase("status")]
    [TestCase("prune")]
    public async Task DatabaseVerb_onADatabaseWithoutTheSchema_saysToMigrate(string verb)
    {
        var database = await EmptyDatabaseAsync();

        var run = await RelayProcess.RunAsync([verb, "--connection-string", With(database: database)], WithKey);

        AssertOneLine(run, "relay", "run relay migrate");
    }

    [Test]
    public async Task Serve_malformedConnectionString_saysWhichFormsWork()
    {
        var run = await ServeAsync(["--connection-string", "Host=;;=x"]);

        AssertOneLine(run, "the connection string is not valid", "postgres:// URL");
    }

    [Test]
    public async Task Serve_unknownFeed_listsTheInvalidSetting()
    {
        var run = await ServeAsync(["--connection-string", TestDatabase.ConnectionString, "--feed", "carrier-pigeon"]);

        AssertOneLine(run, "invalid configuration", "Relay:Feed must be 'replication' or 'notify'");
    }

    [Test]
    public async Task Serve_zeroRingCapacityAndBatchSize_namesBothSettings_beforeTouchingTheDatabase()
    {
        var environment = new Dictionary<string, string>(WithKey)
        {
            ["Relay__TopicLogs__RingCapacity"] = "0",
            ["Relay__TopicLogs__BatchMaxEvents"] = "0",
        };

        // The database is down: an invalid setting is reported before it is reached.
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres"], environment);

        AssertOneLine(run, "invalid configuration", "Relay:TopicLogs:RingCapacity must be between 1 and");
        Assert.That(run.Error, Does.Contain("Relay:TopicLogs:BatchMaxEvents must be between 1 and 200"));
    }

    [TestCase("Relay__Sync__HeartbeatInterval", "15s", "Relay:Sync:HeartbeatInterval", "hh:mm:ss")]
    [TestCase("Relay__AutoMigrate", "yes", "Relay:AutoMigrate", "true or false")]
    [TestCase("Relay__DatabaseConnections", "many", "Relay:DatabaseConnections", "a whole number")]
    [TestCase("Relay__StatusPage__Enabled", "1", "Relay:StatusPage:Enabled", "true or false")]
    [TestCase("Relay__Cors__AllowLocalhost", "1", "Relay:Cors:AllowLocalhost", "true or false")]
    [TestCase("Relay__Auth__ClockSkew", "30s", "Relay:Auth:ClockSkew", "hh:mm:ss")]
    public async Task Serve_valueThatDoesNotConvert_namesTheSettingAndItsForm_beforeTouchingTheDatabase(
        string variable, string value, string setting, string form)
    {
        // The database is down: the setting is reported before it is reached.
        var run = await ServeAsync(
            ["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres"],
            new Dictionary<string, string>(WithKey) { [variable] = value });

        AssertOneLine(run, $"invalid configuration: Failed to convert configuration value '{value}' at '{setting}'", form);
    }

    [Test]
    public async Task Serve_misspelledSetting_namesIt_beforeTouchingTheDatabase()
    {
        // Before, the binder ignored it: a misspelled connection string ran the relay on the embedded database.
        var run = await ServeAsync(
            ["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres"],
            new Dictionary<string, string>(WithKey) { ["Relay__Sync__SendTimout"] = "00:00:05" });

        AssertOneLine(run, "invalid configuration: Relay:Sync:SendTimout is not a setting of the relay", "Relay:Sync takes HeartbeatInterval");
    }

    [Test]
    public async Task DatabaseVerb_failure_isTheOnlyLineOnStandardError()
    {
        var run = await RelayProcess.RunAsync(["prune", "--older-than", "garbage", "--connection-string", TestDatabase.ConnectionString], WithKey);

        AssertOneLine(run, "invalid input syntax for type interval", "give a PostgreSQL interval");
        // Before, "info: Relay.Host[1010] Using PostgreSQL from explicit connection string" came first.
        Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), run.Error);
    }

    [Test]
    public async Task DatabaseVerb_misspelledConnectionString_namesIt_insteadOfUsingTheEmbeddedDatabase()
    {
        var run = await RelayProcess.RunAsync(
            ["status"], new Dictionary<string, string>(WithKey) { ["Relay__ConectionString"] = TestDatabase.ConnectionString });

        AssertOneLine(run, "invalid configuration: Relay:ConectionString is not a setting of the relay", "ConnectionString");
    }

    [Test]
    public async Task Serve_settingAsAnArgument_isConfiguration()
    {
        // The database is down: the setting given as an argument is checked before it is reached.
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres", "--Relay:TopicLogs:RingCapacity=0"]);

        AssertOneLine(run, "invalid configuration", "Relay:TopicLogs:RingCapacity must be between 1 and");
    }

    [TestCase("--bogus")]
    [TestCase("--Relay:Feed")]
    public async Task Serve_argumentThatIsNeitherAnOptionNorASetting_saysWhereOptionsAreListed(string argument)
    {
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres", argument]);

        AssertOneLine(run, $"'{argument}' is neither an option of relay serve nor a setting", "relay serve --help");
    }

    [Test]
    public async Task Serve_zeroOutboundQueue_namesTheSetting()
    {
        var run = await ServeAsync(
            ["--connection-string", TestDatabase.ConnectionString], new Dictionary<string, string>(WithKey) { ["Relay__Sync__OutboundQueueBytes"] = "0" });

        AssertOneLine(run, "invalid configuration", "Relay:Sync:OutboundQueueBytes must be between 1 and");
    }

    [TestCase("127.0.0.1")]
    [TestCase("localhost")]
    public async Task Serve_portInUse_saysToChooseAnotherWithUrls_beforeTouchingTheDatabase(string host)
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        // The database is down: the port in use is reported before it is reached.
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres", "--urls", $"http://{host}:{port}"]);

        AssertOneLine(run, "address already in use", "--urls");
    }

    [Test]
    public async Task Serve_saysWhichHs256KeysItAccepts_soARotationCanBeCheckedOnEveryNode()
    {
        var port = FreePort.Next();
        await using var relay = RelayProcess.Serve(port);
        await relay.WaitReadyAsync(port);
        relay.Interrupt();
        await relay.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Before, only a JWKS file's key ids were logged (docs/auth.md §2.1 step 1 says to check this line).
        Assert.That(relay.Output, Does.Contain($"Accepting tokens signed with 1 HS256 keys: {RelayServerHarness.Key.KeyId}"));
    }

    [Test]
    public async Task Up_portInUse_leavesNoDataFolderBehind()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var folder = RelayProcess.NewFolder();
        try
        {
            var data = Path.Combine(folder, ".relay");

            var run = await RelayProcess.RunAsync(["up", "--data-dir", data, "--urls", $"http://127.0.0.1:{((IPEndPoint)occupant.LocalEndpoint).Port}"], WithKey, folder);

            AssertOneLine(run, "address already in use", "--urls");
            // Before, an empty .relay/ stayed, which the next verb took for an embedded database.
            Assert.That(Directory.Exists(data), Is.False);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Serve_urlsNotAnAddress_saysHowToGiveIt_beforeTouchingTheDatabase()
    {
        // The database is down: a malformed address is reported before it is reached.
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres", "--urls", "notaurl"]);

        AssertOneLine(run, "Invalid url: 'notaurl'", "http://HOST:PORT");
    }

    [Test]
    public async Task Serve_hostListWithTheReplicationFeed_saysToGiveOneHostOrUseNotify()
    {
        var builder = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        var list = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Host = $"{builder.Host}:{builder.Port},{builder.Host}:{builder.Port}" };
        list.Remove("Port");
        list["Target Session Attributes"] = "primary";

        // Before, the relay listened and its feed failed to connect for ever, a stack trace per attempt, never ready.
        var run = await ServeAsync(["--connection-string", list.ConnectionString]);

        AssertOneLine(run, "the replication feed connects to one host, not a list", "--feed notify");
    }

    [Test]
    public async Task Serve_hostListWithTheNotifyFeed_withoutTargetSessionAttributesPrimary_saysToSetIt()
    {
        // Before, it started: Npgsql's default takes any host that answers, a standby too (notify feed review L5).
        var builder = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        var list = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Host = $"{builder.Host}:{builder.Port},{builder.Host}:{builder.Port}" };
        list.Remove("Port");

        var run = await ServeAsync(["--feed", "notify", "--connection-string", list.ConnectionString]);

        AssertOneLine(run, "a host list needs Target Session Attributes=primary", "postgres-failover.md");
    }

    [Test]
    public async Task Serve_tlsRequiredOfAServerWithout_saysToEnableItOrLowerSslMode()
    {
        var run = await ServeAsync(["--connection-string", TestDatabase.ConnectionString + ";SSL Mode=Require"]);

        AssertOneLine(run, "SSL connection requested", "lower SSL Mode (sslmode) in the connection string");
    }

    [Test]
    public async Task Serve_httpsWithoutACertificate_saysWhatToGive_beforeTouchingTheDatabase()
    {
        // The database is down: Kestrel found the missing certificate only once the relay had migrated and taken its slot.
        var run = await ServeAsync(["--connection-string", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres", "--urls", $"https://127.0.0.1:{FreePort.Next()}"]);

        AssertOneLine(run, "https needs a certificate", "Kestrel__Certificates__Default__Path");
    }

    [TestCase("argument")]
    [TestCase("environment")]
    public async Task Serve_connectionStringSetButEmpty_isRefused_notServedFromANewEmbeddedDatabase(string how)
    {
        var folder = RelayProcess.NewFolder();
        try
        {
            // '--connection-string "$DB_URL"' with the variable unset, or 'Relay__ConnectionString=' in a manifest.
            var run = await RelayProcess.RunAsync(
                ["serve", "--urls", $"http://127.0.0.1:{FreePort.Next()}", .. how == "argument" ? new[] { "--connection-string", "" } : []],
                how == "argument" ? WithKey : new Dictionary<string, string>(WithKey) { ["Relay__ConnectionString"] = "" }, folder);

            AssertOneLine(run, "Relay:ConnectionString is set but empty", "leave the setting out for the embedded database");
            Assert.That(Directory.Exists(Path.Combine(folder, ".relay", "postgres")), Is.False, "no embedded cluster was made");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Up_dataDirThatIsAFile_saysToPassAnother()
    {
        // Before, an unhandled IOException and its stack trace (ops review O6).
        var folder = RelayProcess.NewFolder();
        try
        {
            var file = Path.Combine(folder, "not-a-folder");
            await File.WriteAllTextAsync(file, "x");

            var run = await RelayProcess.RunAsync(["up", "--data-dir", file, "--urls", $"http://127.0.0.1:{FreePort.Next()}"], WithKey, folder);

            AssertOneLine(run, $"cannot use {file} for relay up", "pass another --data-dir");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Up_dataFolderThatHoldsFilesButNoCluster_saysToMoveThemAway()
    {
        var folder = RelayProcess.NewFolder();
        try
        {
            var data = Directory.CreateDirectory(Path.Combine(folder, ".relay", "postgres", "data"));
            await File.WriteAllTextAsync(Path.Combine(data.FullName, "stray.txt"), "not a cluster");

            var run = await RelayProcess.RunAsync(["up", "--data-dir", Path.Combine(folder, ".relay"), "--urls", $"http://127.0.0.1:{FreePort.Next()}"], WithKey, folder);

            AssertOneLine(run, $"{data.FullName} holds files but no PostgreSQL cluster", "move them away, or give another --data-dir");
            Assert.That(File.Exists(Path.Combine(data.FullName, "stray.txt")), Is.True, "left as it was");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Serve_roleThatMayNotMigrate_saysToMigrateAsTheOwnerAndTurnAutoMigrateOff()
    {
        await Sql.ExecuteAsync("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_no_create') THEN CREATE ROLE relay_no_create LOGIN; END IF; END $$");
        await Sql.ExecuteAsync($"REVOKE CREATE ON DATABASE \"{new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString).Database}\" FROM PUBLIC");

        var run = await ServeAsync(["--connection-string", With(user: "relay_no_create"), "--feed", "notify"]);

        AssertOneLine(run, "42501: permission denied for database", "Relay__AutoMigrate=false, after relay migrate as the schema's owner");
    }

    [Test]
    public async Task Serve_walLevelReplica_saysToSetLogicalOrUseNotify()
    {
        await using var cluster = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-wal-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var alter = new NpgsqlCommand("ALTER SYSTEM SET wal_level = 'replica'", connection);
            await alter.ExecuteNonQueryAsync();
        }
        await cluster.RestartAsync();

        var run = await ServeAsync(["--connection-string", cluster.ConnectionString]);

        AssertOneLine(run, "wal_level=replica", "--feed notify");
    }

    [Test]
    public async Task Serve_postgresUrl_isAcceptedAsAConnectionString()
    {
        var builder = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        var port = FreePort.Next();
        await using var relay = RelayProcess.Start(
            ["serve", "--connection-string", $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}?application_name=relay-url-test",
                "--feed", "notify", "--urls", $"http://127.0.0.1:{port}"],
            WithKey);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        await Eventually.ThatAsync(async () => relay.HasExited || await ReadyAsync(http), "the relay to be ready");
        Assert.That(relay.HasExited, Is.False, relay.Error);
        relay.Interrupt();

        Assert.That(await relay.WaitForExitAsync(TimeSpan.FromMinutes(1)), Is.Zero, relay.Error);
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

    /// <summary>A new database on the test cluster, without the relay schema.</summary>
    private static async Task<string> EmptyDatabaseAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var name = $"empty_{test.ToLowerInvariant()[..Math.Min(test.Length, 40)]}_{Guid.NewGuid():N}"[..63];
        await Sql.ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return name;
    }

    private static string With(string? database = null, string? user = null) =>
        new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString)
        {
            Database = database ?? new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString).Database,
            Username = user ?? new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString).Username,
        }.ConnectionString;

    private static Task<(int Exit, string Output, string Error)> ServeAsync(string[] args, Dictionary<string, string>? environment = null) =>
        RelayProcess.RunAsync(
            ["serve", .. args.Contains("--urls") ? [] : new[] { "--urls", $"http://127.0.0.1:{FreePort.Next()}" }, .. args], environment ?? WithKey);

    /// <summary>Exit 1; the last line of standard error is <c>relay: …</c> holding both parts; no stack trace anywhere.</summary>
    internal static void AssertOneLine((int Exit, string Output, string Error) run, string what, string hint)
    {
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(run.Exit, Is.EqualTo(1), run.Error);
            Assert.That(lines, Is.Not.Empty);
            Assert.That(lines.LastOrDefault(), Does.StartWith("relay: ").And.Contain(what).And.Contain(hint));
            Assert.That(run.Output + run.Error, Does.Not.Contain("   at ").And.Not.Contain("Unhandled exception"));
        });
    }
}
