using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Relay.Host.Development;

namespace Relay.Tests.Cli;

/// <summary><c>relay up</c>, <c>down</c> and the verbs beside it, as real processes in a project folder of their own.</summary>
public sealed class EmbeddedCliTests
{
    [Test]
    public async Task Status_noEmbeddedDatabaseHereOrAbove_isAnErrorNotANewCluster()
    {
        var folder = RelayProcess.NewFolder();

        var run = await RelayProcess.RunAsync(["status"], directory: folder);

        StartupErrorTests.AssertOneLine(run, "no embedded database", "relay up");
        Assert.That(Directory.Exists(Path.Combine(folder, ".relay")), Is.False);
    }

    [Test]
    public async Task Status_dataDirWithoutADatabase_saysDataDirNamesTheDatabasesOwnFolder()
    {
        var folder = RelayProcess.NewFolder();

        var run = await RelayProcess.RunAsync(["status", "--data-dir", folder]);

        StartupErrorTests.AssertOneLine(run, $"no embedded database in {folder}:", "names the database's folder itself");
        Assert.That(run.Error, Does.Not.Contain("any folder above"));
    }

    [Test]
    public async Task Down_noEmbeddedDatabase_isAnError()
    {
        var run = await RelayProcess.RunAsync(["down"], directory: RelayProcess.NewFolder());

        StartupErrorTests.AssertOneLine(run, "no embedded database", "--data-dir");
    }

    [Test]
    public async Task Up_thenVerbsFromASubfolder_findTheSameDatabase_andCtrlCStopsIt()
    {
        var project = RelayProcess.NewFolder();
        var subfolder = Directory.CreateDirectory(Path.Combine(project, "src", "app")).FullName;
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var port = await UpAsync(project, url, async () =>
        {
            var publish = await RelayProcess.RunAsync(
                ["publish", "--topic", "runtime.run_summaries", "--key", "run-1", "--payload", """{"status":"running"}""", "--org", "org-1"], directory: subfolder);
            Assert.That((publish.Exit, publish.Output.Trim()), Is.EqualTo((0, """{"watermark":1,"doc_version":1}""")), publish.Error);

            var status = await RelayProcess.RunAsync(["status"], directory: subfolder);
            var row = status.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Single(r => r.TryGetProperty("topic", out var topic) && topic.GetString() == "runtime.run_summaries");
            Assert.That(row.GetProperty("head_watermark").GetInt64(), Is.EqualTo(1));
            Assert.That(row.GetProperty("oldest_event_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"));
            Assert.That(row.GetProperty("retention").GetString(), Is.EqualTo("P7D"));

            var audit = await RelayProcess.RunAsync(["audit", "--topic", "runtime.no_such_topic"], directory: subfolder);
            StartupErrorTests.AssertOneLine(audit, "no topic runtime.no_such_topic", "relay status");

            // No --token: relay up's development key signs one.
            var tail = await RelayProcess.RunAsync(["tail", "--topic", "runtime.no_such_topic", "--url", url], directory: subfolder);
            Assert.That(tail.Exit, Is.EqualTo(1), tail.Error);
            Assert.That(tail.Error, Does.Contain("no topic runtime.no_such_topic"));

            var second = await RelayProcess.RunAsync(["up", "--urls", $"http://127.0.0.1:{FreePort.Next()}"], directory: subfolder);
            StartupErrorTests.AssertOneLine(second, "already serves", "Ctrl-C");
        });

        var down = await RelayProcess.RunAsync(["down"], directory: subfolder);
        Assert.That((down.Exit, down.Output), Is.EqualTo((0, $"the embedded PostgreSQL in {Path.Combine(project, ".relay")} was not running\n")), down.Error);
        var again = await UpAsync(project, url, () => Task.CompletedTask);
        Assert.That(again, Is.EqualTo(port), "the embedded database keeps its port");
    }

    [Test]
    public async Task Up_ctrlCWhileTheDatabaseStarts_leavesNothingRunning()
    {
        var project = RelayProcess.NewFolder();
        var pidFile = Path.Combine(project, ".relay", "postgres", "data", "postmaster.pid");
        await using var up = RelayProcess.Start(["up", "--urls", $"http://127.0.0.1:{FreePort.Next()}"], directory: project);

        await Eventually.ThatAsync(() => up.HasExited || File.Exists(pidFile), "PostgreSQL to start", TimeSpan.FromMinutes(2));
        up.Interrupt();
        var exit = await up.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.That(exit, Is.EqualTo(0).Or.EqualTo(130), up.Error);
        Assert.That(File.Exists(pidFile), Is.False, "PostgreSQL was stopped");
        Assert.That(up.Output + up.Error, Does.Not.Contain("   at "));
    }

    [Test]
    public async Task Down_afterAKilledUp_stopsTheDatabaseItLeft()
    {
        var project = RelayProcess.NewFolder();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using (var up = RelayProcess.Start(["up", "--urls", url], directory: project))
        {
            await WaitReadyAsync(up, url);
        }
        var pidFile = Path.Combine(project, ".relay", "postgres", "data", "postmaster.pid");
        Assert.That(File.Exists(pidFile), Is.True, "a killed relay up leaves PostgreSQL running");

        var down = await RelayProcess.RunAsync(["down", "--data-dir", Path.Combine(project, ".relay")], directory: RelayProcess.NewFolder());

        Assert.That(down.Exit, Is.Zero, down.Error);
        Assert.That(down.Output, Does.StartWith("stopped the embedded PostgreSQL"));
        Assert.That(File.Exists(pidFile), Is.False);
    }

    [Test]
    public async Task Down_postmasterPidLeftByACrash_whosePidIsAnotherProcessNow_leavesItAlone_andSaysNotRunning()
    {
        var project = RelayProcess.NewFolder();
        await UpAsync(project, $"http://127.0.0.1:{FreePort.Next()}", () => Task.CompletedTask);
        // A crash leaves postmaster.pid behind; its pid has since gone to another process of the same user.
        using var other = Process.Start("setpriv", ["--reuid", ProcessRunner.PostgresUser, "--regid", ProcessRunner.PostgresUser, "--clear-groups", "sleep", "600"]);
        try
        {
            var data = Path.Combine(project, ".relay", "postgres", "data");
            await File.WriteAllTextAsync(Path.Combine(data, "postmaster.pid"), $"{other.Id}\n{data}\n1764800000\n5432\n");

            var down = await RelayProcess.RunAsync(["down"], directory: project);

            // Before, pg_ctl stop sent that process SIGINT and waited a minute for the file to go.
            Assert.That((down.Exit, down.Output), Is.EqualTo((0, $"the embedded PostgreSQL in {Path.Combine(project, ".relay")} was not running\n")), down.Error);
            Assert.That(other.HasExited, Is.False, "the process that has the pid now");
            await UpAsync(project, $"http://127.0.0.1:{FreePort.Next()}", () => Task.CompletedTask);
        }
        finally
        {
            other.Kill();
        }
    }

    [Test]
    public async Task Serve_dataDirectoryGivenAsASetting_servesTheDatabaseThere_notANewOneHere()
    {
        var project = RelayProcess.NewFolder();
        var elsewhere = Path.Combine(RelayProcess.NewFolder(), "relay-data");
        var url = $"http://127.0.0.1:{FreePort.Next()}";

        // The argument was overwritten by ./.relay: serve started a new, empty database there without a word.
        await using (var serve = RelayProcess.Start(
            ["serve", "--urls", url, $"--Relay:DataDirectory={elsewhere}"], new Dictionary<string, string> { ["Relay__Auth__Keys__k1"] = RelayProcess.Key }, project))
        {
            await WaitReadyAsync(serve, url);
            serve.Interrupt();
            Assert.That(await serve.WaitForExitAsync(TimeSpan.FromMinutes(2)), Is.Zero, serve.Error);
        }

        Assert.That(File.Exists(Path.Combine(elsewhere, "postgres", "port")), Is.True, "the database in the folder named");
        Assert.That(Directory.Exists(Path.Combine(project, ".relay")), Is.False, "no database in the working directory");
    }

    [Test]
    public async Task Up_connectionStringAsASetting_isRefused_notIgnored()
    {
        var project = RelayProcess.NewFolder();

        var run = await RelayProcess.RunAsync(["up", "--Relay:ConnectionString=Host=db.example.com"], directory: project);

        StartupErrorTests.AssertOneLine(run, "relay up serves its embedded database", "--Relay:ConnectionString is for relay serve");
        Assert.That(Directory.Exists(Path.Combine(project, ".relay")), Is.False);
    }

    [Test]
    public async Task Down_afterAKilledUp_whosePidIsAnotherProcessNow_stopsTheDatabase_andUpStartsAgain()
    {
        var project = RelayProcess.NewFolder();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using (var up = RelayProcess.Start(["up", "--urls", url], directory: project))
        {
            await WaitReadyAsync(up, url);
        }
        // The killed up's up.pid names a process that lives now (pids come round again, in a container soon).
        using var other = Process.Start("sleep", ["600"]);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(project, ".relay", "up.pid"), $"{other.Id}");

            // Before, both took it for a live relay up: "is serving", "already serves", and no verb got out of it.
            var down = await RelayProcess.RunAsync(["down"], directory: project);
            Assert.That((down.Exit, down.Output), Is.EqualTo((0, $"stopped the embedded PostgreSQL in {Path.Combine(project, ".relay")}\n")), down.Error);
            await UpAsync(project, url, () => Task.CompletedTask);
            Assert.That(other.HasExited, Is.False);
        }
        finally
        {
            other.Kill();
        }
    }

    [Test]
    public async Task Up_whenAnotherProgramTookTheDatabasesKeptPort_saysSoAndWhatToDo()
    {
        var project = RelayProcess.NewFolder();
        var port = await UpAsync(project, $"http://127.0.0.1:{FreePort.Next()}", () => Task.CompletedTask);
        using var squatter = new TcpListener(IPAddress.Loopback, port);
        squatter.Start();

        // Before: "pg_ctl start … exited with 1: … could not start server; Examine the log output."
        var run = await RelayProcess.RunAsync(["up", "--urls", $"http://127.0.0.1:{FreePort.Next()}"], directory: project);

        StartupErrorTests.AssertOneLine(run, $"PostgreSQL did not start (FATAL:", $"port {port}, kept in {Path.Combine(project, ".relay", "postgres", "port")}, is taken by another program");
    }

    [Test]
    public async Task Down_whileServeRunsOnTheEmbeddedDatabase_isRefused_andServeGoesOn()
    {
        var project = RelayProcess.NewFolder();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var serve = RelayProcess.Start(
            ["serve", "--urls", url], new Dictionary<string, string> { ["Relay__Auth__Keys__k1"] = RelayProcess.Key }, project);
        await WaitReadyAsync(serve, url);

        // Before, only up claimed the directory: down stopped PostgreSQL under the serve.
        var down = await RelayProcess.RunAsync(["down"], directory: project);

        StartupErrorTests.AssertOneLine(down, $"is serving {Path.Combine(project, ".relay")}", "press Ctrl-C there");
        using var http = new HttpClient();
        Assert.That((await http.GetAsync(new Uri($"{url}/readyz"))).IsSuccessStatusCode, Is.True, "serve still ready");
        serve.Interrupt();
        Assert.That(await serve.WaitForExitAsync(TimeSpan.FromMinutes(2)), Is.Zero, serve.Error);
    }

    /// <summary>Runs <c>relay up</c> in <paramref name="project"/>, does <paramref name="whileUp"/>, stops it with Ctrl-C; returns the database's port.</summary>
    private static async Task<int> UpAsync(string project, string url, Func<Task> whileUp)
    {
        await using var up = RelayProcess.Start(["up", "--urls", url], directory: project);
        await WaitReadyAsync(up, url);
        var port = int.Parse(await File.ReadAllTextAsync(Path.Combine(project, ".relay", "postgres", "port")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(up.Output, Does.Contain($"(port {port})"));
        await whileUp();
        up.Interrupt();
        Assert.That(await up.WaitForExitAsync(TimeSpan.FromMinutes(2)), Is.Zero, up.Error);
        Assert.That(File.Exists(Path.Combine(project, ".relay", "postgres", "data", "postmaster.pid")), Is.False, "Ctrl-C stopped PostgreSQL");
        return port;
    }

    private static async Task WaitReadyAsync(RelayProcess up, string url)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        await Eventually.ThatAsync(async () =>
        {
            try
            {
                return up.HasExited || (await http.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "relay up to be ready", TimeSpan.FromMinutes(2));
        Assert.That(up.HasExited, Is.False, up.Error);
    }
}
