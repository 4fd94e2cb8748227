using Relay.Host.Development;

namespace Relay.Tests.Cli;

/// <summary><c>relay probe</c>, the container's health check, as a real process.</summary>
public sealed class ProbeCommandTests
{
    [Test]
    public async Task Probe_readyRelay_exitsZero()
    {
        await using var relay = await RelayServerHarness.StartAsync();

        var run = await RelayProcess.RunAsync(["probe", "--url", relay.Http.ToString()]);

        Assert.That(run.Exit, Is.Zero, run.Error);
    }

    [Test]
    public async Task Probe_nothingListening_exitsOneWithTheReason()
    {
        var run = await RelayProcess.RunAsync(["probe", "--url", $"http://127.0.0.1:{FreePort.Next()}"]);

        StartupErrorTests.AssertOneLine(run, "no answer from", "readyz");
    }

    [Test]
    public async Task Probe_notAUrl_saysWhatAnAddressLooksLike()
    {
        var run = await RelayProcess.RunAsync(["probe", "--url", "notaurl"]);

        StartupErrorTests.AssertOneLine(run, "--url 'notaurl' is not an http:// or https:// address", "http://127.0.0.1:8080");
    }
}
