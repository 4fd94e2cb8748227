using System.Net.WebSockets;
using System.Text;
using Relay.Host.Development;

namespace Relay.Tests.Cli;

/// <summary>What clients sending bad requests cost the relay's log, read from a relay process's console as an operator would.</summary>
public sealed class BadRequestLogTests
{
    /// <summary>A relay process serving the test database, once it is ready; its port.</summary>
    private static async Task<(RelayProcess Relay, int Port)> StartRelayAsync()
    {
        var port = FreePort.Next();
        var relay = RelayProcess.Serve(port);
        try
        {
            await relay.WaitReadyAsync(port);
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
        return (relay, port);
    }

    [Test]
    public async Task RefusedUpgrades_ofTwoKindsForOneReason_areEachLogged()
    {
        var (relay, port) = await StartRelayAsync();
        await using var _ = relay;

        foreach (var path in new[] { "/sync/v1/ws", "/socket/websocket?vsn=2.0.0&token=garbage" })
        {
            using var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol(Relay.Protocol.SyncEndpoints.JsonSubprotocol);
            socket.Options.SetRequestHeader("Authorization", "Bearer garbage");
            Assert.That(async () => await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}{path}"), CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        }
        relay.Interrupt();
        await relay.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Before, the second was counted under the first's line ("Refused a WebSocket upgrade: malformed (1 more …)").
        Assert.That(relay.Output, Does.Contain("Refused a WebSocket upgrade: malformed"));
        Assert.That(relay.Output, Does.Contain("Refused a Phoenix upgrade: malformed"));
    }

    [Test]
    public async Task Client_sendingOnlyBadRequests_costsOneLogLine_thatNamesItAndEscapesItsText()
    {
        var (relay, port) = await StartRelayAsync();
        await using var _ = relay;
        // Not joined: a Phoenix connection has no identity before its join brings a token.
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/socket/websocket?vsn=2.0.0"), CancellationToken.None);

        // An event name that would start a log line of its own, then 300 more bad requests, each answered.
        var frames = new List<string> { """[null,"0","sync:v1","x\nfail: Relay.Host[9999]\n FORGED",{}]""" };
        frames.AddRange(Enumerable.Range(1, 300).Select(i => $$"""[null,"{{i}}","sync:v1","nope",{}]"""));
        foreach (var frame in frames)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        var buffer = new byte[64 * 1024];
        for (var answered = 0; answered < frames.Count;)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Text), "the connection stays open");
            answered += Encoding.UTF8.GetString(buffer, 0, result.Count).Contains("\"phx_reply\"", StringComparison.Ordinal) ? 1 : 0;
        }
        relay.Interrupt();
        await relay.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Before, every one of the 301 wrote its line, and the event name's line breaks started lines of their own.
        var lines = relay.Output.Split('\n');
        Assert.That(lines.Count(line => line.Contains("Bad request from", StringComparison.Ordinal)), Is.EqualTo(1), relay.Output);
        // Named by its connection too (Kestrel's id and the peer): one subject's connections are told apart.
        var client = System.Text.RegularExpressions.Regex.Escape("a Phoenix client not joined yet (connection ") + @"[0-9A-Z:]+ from 127\.0\.0\.1:\d+\)";
        Assert.That(relay.Output, Does.Match(client + System.Text.RegularExpressions.Regex.Escape(""": Unknown event 'x\nfail: Relay.Host[9999]\n FORGED'.""")));
        Assert.That(relay.Output, Does.Match("300 more bad requests from " + client + " since the last such line, when its connection ended"));
        Assert.That(lines.Where(line => line.Contains("FORGED", StringComparison.Ordinal)), Has.All.Contains("Bad request from"));
        Assert.That(lines.Select(line => line.TrimStart()), Has.None.StartsWith("fail:"));
    }
}
