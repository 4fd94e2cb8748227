namespace Relay.Tests.Cli;

/// <summary><c>relay tail</c> as a real process: a refusal no retry can mend ends it with one line and exit code 1.</summary>
public sealed class TailCommandTests
{
    [Test]
    public async Task Tail_refusedToken_endsWithOneLine_insteadOfReconnectingForever()
    {
        await using var relay = await RelayServerHarness.StartAsync();

        var run = await RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--url", relay.Http.ToString(), "--token", "not-a-jwt"]);

        StartupErrorTests.AssertOneLine(run, "refused the connection with HTTP 401", "pass a valid --token");
    }

    [Test]
    public async Task Tail_negativeFrom_isRefusedBeforeConnecting()
    {
        var run = await RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--from", "-5", "--token", "not-a-jwt"]);

        StartupErrorTests.AssertOneLine(run, "--from '-5' is not a whole number of 0 or more", "relay tail --help");
    }

    [Test]
    public async Task Tail_notAUrl_saysWhatAnAddressLooksLike()
    {
        var run = await RelayProcess.RunAsync(["tail", "--topic", "runtime.run_summaries", "--url", "notaurl", "--token", "not-a-jwt"]);

        StartupErrorTests.AssertOneLine(run, "--url 'notaurl' is not an http:// or https:// address", "http://127.0.0.1:8080");
    }
}
