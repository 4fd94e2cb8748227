using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Relay.Host.Development;

namespace Relay.Tests.Operations;

/// <summary>The status page at <c>/</c>: its data over HTTP, and the page itself in headless Chromium.</summary>
public sealed class StatusPageTests
{
    private static readonly Dictionary<string, string> s_enabled = new()
    {
        ["Relay:StatusPage:Enabled"] = "true",
        ["Relay:Metrics:PollInterval"] = "00:00:00.200",
    };

    [Test]
    public async Task StatusPage_disabled_isNotServed()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        using var http = relay.HttpClient();

        Assert.That((await http.GetAsync("/")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await http.GetAsync("/status/v1")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task StatusPage_enabled_servesThePageTopicsAndRecentUpdatesWithoutPayloads()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, jsonb_build_object('secret', i)) FROM generate_series(1, 3) i", topic);
        await using var relay = await RelayServerHarness.StartAsync(s_enabled);
        using var http = relay.HttpClient();

        var page = await http.GetAsync("/");
        using var status = JsonDocument.Parse(await http.GetStringAsync("/status/v1"));
        await Eventually.ThatAsync(async () => (await http.GetStringAsync($"/status/v1/recent/{topic}")).Contains(":3\""), "the log to hold the events");
        var recent = await http.GetStringAsync($"/status/v1/recent/{topic}");

        Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("<title>Khala Relay status</title>"));
        var row = status.RootElement.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("topic").GetString() == topic);
        Assert.That(row.GetProperty("head").GetInt64(), Is.EqualTo(3));
        Assert.That(row.GetProperty("journalRows").GetInt64(), Is.EqualTo(3));
        Assert.That(status.RootElement.GetProperty("feed").GetProperty("streaming").GetBoolean(), Is.True);
        Assert.That(recent, Does.Contain($"\"docKey\":\"{topic}:3\"").And.Not.Contain("secret"));
    }

    [TestCase("/")]
    [TestCase("/status/v1")]
    public async Task StatusPage_addressedByAnotherName_isRefused_againstDnsRebinding(string path)
    {
        await using var relay = await RelayServerHarness.StartAsync(s_enabled);
        using var http = relay.HttpClient();

        // A site whose name an attacker made resolve to 127.0.0.1: the browser sends its name as Host.
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Host = $"rebind.attacker.example:{relay.Http.Port}" } };
        using var refused = await http.SendAsync(request);
        using var local = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Host = $"localhost:{relay.Http.Port}" } };
        using var served = await http.SendAsync(local);

        // Before, 200 with every organisation's recent doc_keys.
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("DNS rebinding"));
        Assert.That(served.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task StatusPage_inChromium_loadsChartsMoveWhileAWriterPublishes_andRecoversAfterARestart()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':0', '{}')", topic);
        var port = FreePort.Next();
        var relay = await RelayServerHarness.StartAsync(s_enabled, port);
        var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "status-page.png");
        File.Delete(screenshot);
        var browser = Path.Combine(Repository.Root(), "Relay.Tests", "Browser");
        using var node = Process.Start(new ProcessStartInfo("node", [Path.Combine(browser, "status-page.mjs"), relay.Http.ToString(), screenshot, topic])
        {
            WorkingDirectory = browser,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var lines = new BlockingLines(node);
        try
        {
            await lines.WaitForAsync("loaded");
            using var writing = new CancellationTokenSource();
            // It starts with a burst longer than the page's list of latest updates (20), as a busy writer, or a slow
            // browser on a loaded machine, gives: the page must show updates streaming in even when the first ones
            // are already out of the list.
            var writer = Task.Run(async () =>
            {
                for (var i = 1; !writing.IsCancellationRequested; i++)
                {
                    await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || $2::text, '{}')", topic, i);
                    await Task.Delay(i < 30 ? 0 : 50);
                }
            });
            await lines.WaitForAsync("moving");
            await writing.CancelAsync();
            await writer;

            await relay.DisposeAsync();
            await lines.WaitForAsync("lost");
            relay = await RelayServerHarness.StartAsync(s_enabled, port);
            await lines.WaitForAsync("recovered");
            await node.WaitForExitAsync();

            Assert.That(node.ExitCode, Is.Zero, lines.Error);
            Assert.That(File.Exists(screenshot), Is.True);
            TestContext.AddTestAttachment(screenshot, "the status page after a relay restart");
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
            await relay.DisposeAsync();
        }
    }

    /// <summary>A child's output lines, awaited one by one.</summary>
    private sealed class BlockingLines
    {
        private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly System.Text.StringBuilder _error = new();

        public BlockingLines(Process process)
        {
            process.OutputDataReceived += (_, e) => _ = e.Data is { } line ? _lines.Writer.TryWrite(line) : _lines.Writer.TryComplete();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (_error)
                {
                    _error.AppendLine(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Error
        {
            get
            {
                lock (_error)
                {
                    return _error.ToString();
                }
            }
        }

        public async Task WaitForAsync(string expected)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                while (await _lines.Reader.ReadAsync(timeout.Token) is var line && line != expected)
                {
                    await TestContext.Out.WriteLineAsync($"browser: {line}");
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                Assert.Fail($"the browser never reported '{expected}': {Error}");
            }
        }
    }
}
