using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Sync;

/// <summary>
/// A connection is served until the deadline of the token in force: its <c>exp</c> plus the clock skew it was accepted
/// with (CONTRACT §4), followed within a second of a refresh or a Phoenix join.
/// </summary>
public sealed class TokenDeadlineTests
{
    private static Dictionary<string, string> NoSkew => new() { ["Relay:Auth:ClockSkew"] = "00:00:00" };

    [Test]
    public async Task RefreshAuth_toATokenExpiringSooner_movesTheDeadlineToIt()
    {
        await using var relay = await RelayServerHarness.StartAsync(NoSkew);
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(lifetime: TimeSpan.FromHours(1)));

        var refreshRef = await client.SendAsync(new ClientEnvelope { RefreshAuth = new RefreshAuth { Token = RelayServerHarness.Token(lifetime: TimeSpan.FromSeconds(2)) } });
        // Heartbeats keep each receive short, so bound the whole wait: the old deadline checked once a minute.
        var received = await client.ReceiveUntilAsync(e => e.Error is not null).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(received.Any(e => e.Ref == refreshRef && e.Ack is not null), "the refresh was accepted");
        Assert.That(received[^1].Error.Code, Is.EqualTo(ErrorCode.Unauthorized));
        Assert.That(await client.ReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task Deadline_ofAClientFarBehind_dropsWhatIsQueued_soTheClientReadsUnauthorizedNext()
    {
        const int budget = 8 * 1024 * 1024;
        var settings = NoSkew;
        settings["Relay:Sync:OutboundQueueBytes"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Relay:Sync:SendTimeout"] = "00:01:00";
        await using var relay = await RelayServerHarness.StartAsync(settings);
        var topic = await TestTopics.CreateAsync();
        for (var i = 0; i < 16; i++)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || ($2 * 1000 + n), " +
                "'payload', jsonb_build_object('fill', repeat('x', 1000)))) FROM generate_series(1, 1000) n))", topic, i);
        }
        // A small receive window, as on a slow link, so that the relay's queue, not the kernel's buffers, holds the backlog.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
                try
                {
                    await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(tcp, ownsSocket: true);
                }
                catch
                {
                    tcp.Dispose();
                    throw;
                }
            },
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Relay.Protocol.SyncEndpoints.ProtoSubprotocol);
        var lifetime = TimeSpan.FromSeconds(8);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {RelayServerHarness.Token(lifetime: lifetime)}");
        var connected = DateTimeOffset.UtcNow;
        await socket.ConnectAsync(relay.WebSocket, invoker, CancellationToken.None);
        var subscribe = new ClientEnvelope { Ref = "1", Subscribe = new Subscribe { Topics = { topic }, ResumeAfter = { [topic] = 0 } } };
        await socket.SendAsync(Relay.Protocol.ProtoFraming.Encode(subscribe), WebSocketMessageType.Binary, true, CancellationToken.None);

        // Reading nothing until past the deadline, with the relay's queue full by then.
        using (var http = relay.HttpClient())
        {
            await Eventually.ThatAsync(
                async () => MetricsScrape.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Value("khala_relay_connections_queued_bytes") > budget / 2,
                "the relay's queue for the client to fill", lifetime);
        }
        var left = connected + lifetime + TimeSpan.FromSeconds(2) - DateTimeOffset.UtcNow;
        await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero);

        long updateBytes = 0;
        Error? error = null;
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (error is null)
        {
            var result = await socket.ReceiveAsync(chunk, timeout.Token);
            Assert.That(result.MessageType, Is.Not.EqualTo(WebSocketMessageType.Close), "closed before UNAUTHORIZED");
            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                var envelope = Relay.Protocol.ProtoFraming.DecodeServer(buffer.ToArray());
                updateBytes += envelope.UpdateBatch?.Updates.Sum(update => update.Payload.Length) ?? 0;
                error = envelope.Error;
                buffer.SetLength(0);
            }
        }

        Assert.That(error.Code, Is.EqualTo(ErrorCode.Unauthorized));
        // Before, the whole queue (8 MiB) came first, then the error: on a slow link, after the close handshake's 5 s.
        Assert.That(updateBytes, Is.LessThan(budget), "updates read after the deadline before the error");
        Assert.That((await socket.ReceiveAsync(chunk, timeout.Token)).MessageType, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task PhoenixJoin_withATokenExpiringSoonerThanTheSockets_movesTheDeadlineToIt()
    {
        await using var relay = await RelayServerHarness.StartAsync(NoSkew);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"{relay.Phoenix}&token={RelayServerHarness.Token(lifetime: TimeSpan.FromHours(1))}"), CancellationToken.None);
        var join = $$"""["1","1","sync:v1","phx_join",{"token":"{{RelayServerHarness.Token(lifetime: TimeSpan.FromSeconds(2))}}"}]""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(join), WebSocketMessageType.Text, true, CancellationToken.None);

        var frames = await ReceiveUntilClosedAsync(socket);

        Assert.That((string?)frames[0][4]!["status"], Is.EqualTo("ok"), "the join was accepted");
        Assert.That(frames.Select(f => (string?)f[3]), Does.Contain("error"));
        Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task PhoenixSocket_withNoTokenThatNeverJoins_isClosedAtTheJoinTimeout()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:JoinTimeout"] = "00:00:01" });
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(relay.Phoenix, CancellationToken.None);
        var started = DateTimeOffset.UtcNow;
        // Heartbeats, as the stock client sends them: answered, but they are not a token.
        var heartbeat = Encoding.UTF8.GetBytes("""[null,"1","phoenix","heartbeat",{}]""");
        await socket.SendAsync(heartbeat, WebSocketMessageType.Text, true, CancellationToken.None);

        var frames = await ReceiveUntilClosedAsync(socket);

        Assert.That(DateTimeOffset.UtcNow - started, Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(15)));
        Assert.That(frames.Where(f => (string?)f[3] == "error").Select(f => (string?)f[4]!["code"]), Does.Contain("UNAUTHORIZED"));
        Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task PhoenixJoin_withAnotherOrganizationsToken_isRefusedAndTheSocketKeepsItsOwn()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"{relay.Phoenix}&token={RelayServerHarness.Token(org: "org-1")}"), CancellationToken.None);

        var refused = await JoinAsync(socket, "1", RelayServerHarness.Token(org: "org-2"));
        var rejoined = await JoinAsync(socket, "2", token: null);

        Assert.That((string?)refused[4]!["status"], Is.EqualTo("error"), refused.ToJsonString());
        Assert.That(refused.ToJsonString(), Does.Contain("org_mismatch"));
        Assert.That((string?)rejoined[4]!["status"], Is.EqualTo("ok"), "a join without a token keeps the socket's own");
    }

    private static async Task<JsonArray> JoinAsync(ClientWebSocket socket, string joinRef, string? token)
    {
        var payload = token is null ? "{}" : $$"""{"token":"{{token}}"}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes($"""["{joinRef}","{joinRef}","sync:v1","phx_join",{payload}]"""), WebSocketMessageType.Text, true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            var frame = JsonNode.Parse(buffer.AsSpan(0, result.Count))!.AsArray();
            if ((string?)frame[1] == joinRef && (string?)frame[3] == "phx_reply")
            {
                return frame;
            }
        }
    }

    private static async Task<List<JsonArray>> ReceiveUntilClosedAsync(ClientWebSocket socket)
    {
        var frames = new List<JsonArray>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return frames;
            }
            frames.Add(JsonNode.Parse(buffer.AsSpan(0, result.Count))!.AsArray());
        }
    }

    [Test]
    public async Task Upgrade_withATokenJustPastExpiryButWithinTheClockSkew_isServedNotClosedAtOnce()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.TokenExpiringAt(DateTimeOffset.UtcNow.AddSeconds(-5)));

        await Task.Delay(TimeSpan.FromSeconds(1));
        var pingRef = await client.SendAsync(new ClientEnvelope { Ping = new Ping() });
        var answer = (await client.ReceiveUntilAsync(e => e.Ref == pingRef || e.Error is not null))[^1];

        Assert.That(answer.MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack), "the 30 s skew that accepted the token also keeps it");
    }

    [Test]
    public async Task Upgrade_withATokenPastTheClockSkew_is401()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Relay.Protocol.SyncEndpoints.ProtoSubprotocol);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {RelayServerHarness.TokenExpiringAt(DateTimeOffset.UtcNow.AddSeconds(-40))}");
        socket.Options.CollectHttpResponseDetails = true;

        Assert.That(() => socket.ConnectAsync(relay.WebSocket, CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(System.Net.HttpStatusCode.Unauthorized));
    }
}
