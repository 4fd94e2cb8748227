using System.CommandLine;
using System.Text.Json;
using Relay.Host.Cli;

namespace Relay.Tests.Client;

public class TailCommandTests
{
    [Test]
    public async Task Tail_follows_topic_and_prints_json_lines_until_cancelled()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "t", 1, 2);
        var output = new StringWriter();
        var synchronized = TextWriter.Synchronized(output);
        var errorText = new StringWriter();
        var errors = TextWriter.Synchronized(errorText);
        using var stop = new CancellationTokenSource();
        var tail = TailCommand.Create(new Option<string?>("--data-dir"))
            .Parse(["--topic", topic, "--url", relay.Http.ToString(), "--token", RelayServerHarness.Token(), "--from", "1"])
            .InvokeAsync(new InvocationConfiguration { Output = synchronized, Error = errors }, stop.Token);

        await Eventually.ThatAsync(() => Lines(output, synchronized).Length == 1, "the replayed update");
        await Sql.ExecuteAsync("SELECT relay.delete($1, $2)", topic, $"{topic}:t1");
        await Eventually.ThatAsync(() => Lines(output, synchronized).Length == 2, "the live tombstone");
        await stop.CancelAsync();
        Assert.That(await tail, Is.EqualTo(0), () => errorText.ToString());

        var lines = Lines(output, synchronized).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.That(lines[0].GetProperty("topic").GetString(), Is.EqualTo(topic));
        Assert.That(lines[0].GetProperty("docKey").GetString(), Is.EqualTo($"{topic}:t2"));
        Assert.That(lines[0].GetProperty("docVersion").GetInt64(), Is.EqualTo(1));
        Assert.That(lines[0].GetProperty("watermark").GetInt64(), Is.EqualTo(2));
        Assert.That(lines[0].GetProperty("tombstone").GetBoolean(), Is.False);
        Assert.That(lines[0].GetProperty("payload").GetProperty("i").GetInt32(), Is.EqualTo(2));
        Assert.That(lines[1].GetProperty("docKey").GetString(), Is.EqualTo($"{topic}:t1"));
        Assert.That(lines[1].GetProperty("tombstone").GetBoolean(), Is.True);
        Assert.That(lines[1].GetProperty("payload").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task Tail_without_token_fails_with_message()
    {
        var error = new StringWriter();
        var previous = Environment.GetEnvironmentVariable(TailCommand.TokenVariable);
        Environment.SetEnvironmentVariable(TailCommand.TokenVariable, null);
        try
        {
            var exit = await TailCommand.Create(new Option<string?>("--data-dir"))
                .Parse(["--topic", "test.x", "--data-dir", Directory.CreateTempSubdirectory("relay-no-key-").FullName])
                .InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = error });
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.Contain(TailCommand.TokenVariable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(TailCommand.TokenVariable, previous);
        }
    }

    [Test]
    public async Task Tail_refusedToken_endsWithOneLine_insteadOfReconnectingForever()
    {
        await using var relay = await RelayServerHarness.StartAsync();

        var run = await Cli.RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--url", relay.Http.ToString(), "--token", "not-a-jwt"]);

        Cli.StartupErrorTests.AssertOneLine(run, "refused the connection with HTTP 401", "pass a valid --token");
    }

    [Test]
    public async Task Tail_unknownTopic_endsWithOneLineOnly()
    {
        await using var relay = await RelayServerHarness.StartAsync();

        var run = await Cli.RelayProcess.RunAsync(["tail", "--topic", TestTopics.Name(), "--url", relay.Http.ToString(), "--token", RelayServerHarness.Token()]);

        Cli.StartupErrorTests.AssertOneLine(run, "no topic", "relay status lists the topics");
        Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), run.Error);
    }

    [Test]
    public async Task Tail_negativeFrom_isRefusedBeforeConnecting()
    {
        var run = await Cli.RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--from", "-5", "--token", "not-a-jwt"]);

        Cli.StartupErrorTests.AssertOneLine(run, "--from '-5' is not a whole number of 0 or more", "relay tail --help");
    }

    [Test]
    public async Task Tail_notAUrl_saysWhatAnAddressLooksLike()
    {
        var run = await Cli.RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--url", "notaurl", "--token", "not-a-jwt"]);

        Cli.StartupErrorTests.AssertOneLine(run, "--url 'notaurl' is not an http:// or https:// address", "http://127.0.0.1:8080");
    }

    [Test]
    public async Task Tail_notATopicName_isRefusedBeforeConnecting()
    {
        // The client's refusal came out of the verb as a stack trace.
        var run = await Cli.RelayProcess.RunAsync(["tail", "--topic", "runtime.*", "--token", "not-a-jwt"]);

        Cli.StartupErrorTests.AssertOneLine(run, "--topic 'runtime.*' is not a topic name", "relay tail --help");
    }

    [Test]
    public async Task Tail_sameTopicTwice_followsItOnce()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "t", 1, 1);
        var output = new StringWriter();
        var synchronized = TextWriter.Synchronized(output);
        var errors = new StringWriter();
        using var stop = new CancellationTokenSource();

        // A topic named twice made a dictionary of resume points throw: a stack trace.
        var tail = TailCommand.Create(new Option<string?>("--data-dir"))
            .Parse(["--topic", topic, "--topic", topic, "--url", relay.Http.ToString(), "--token", RelayServerHarness.Token()])
            .InvokeAsync(new InvocationConfiguration { Output = synchronized, Error = TextWriter.Synchronized(errors) }, stop.Token);

        await Eventually.ThatAsync(() => Lines(output, synchronized).Length == 1, "the replayed update");
        await RelayClientTests.PublishAsync(topic, "u", 1, 1);
        await Eventually.ThatAsync(() => Lines(output, synchronized).Length == 2, "the live update, once");
        await stop.CancelAsync();
        Assert.That(await tail, Is.EqualTo(0), errors.ToString);
        Assert.That(Lines(output, synchronized), Has.Length.EqualTo(2));
    }

    /// <summary>The lines written so far; the synchronized writer locks itself while writing.</summary>
    private static string[] Lines(StringWriter output, TextWriter synchronized)
    {
        lock (synchronized)
        {
            return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }
}
