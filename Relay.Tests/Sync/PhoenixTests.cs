using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Relay.Tests.Sync;

/// <summary>The Phoenix V2 endpoint, spoken frame by frame as phoenix.js speaks it.</summary>
public sealed class PhoenixTests
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static async Task<ClientWebSocket> ConnectAsync(string? token)
    {
        var socket = new ClientWebSocket();
        var uri = token is null ? s_relay.Phoenix : new Uri($"{s_relay.Phoenix}&token={token}");
        await socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string frame) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonArray> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[1 << 20];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.That(result.EndOfMessage, Is.True);
        return JsonNode.Parse(buffer.AsSpan(0, result.Count))!.AsArray();
    }

    [Test]
    public async Task Phoenix_joinSubscribe_receivesRepliesAndUpdateBatchPushes()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, jsonb_build_object('i', i)) FROM generate_series(1, 3) i", topic);
        using var socket = await ConnectAsync(RelayServerHarness.Token());

        await SendAsync(socket, """["1","1","sync:v1","phx_join",{}]""");
        var joined = await ReceiveAsync(socket);
        await SendAsync(socket, $$$"""["1","2","sync:v1","subscribe",{"topics":["{{{topic}}}"],"resumeAfter":{"{{{topic}}}":0}}]""");
        var subscribed = await ReceiveAsync(socket);
        var batch = await ReceiveAsync(socket);

        Assert.That(joined.ToJsonString(), Is.EqualTo("""["1","1","sync:v1","phx_reply",{"status":"ok","response":{}}]"""));
        Assert.That((string?)subscribed[3], Is.EqualTo("phx_reply"));
        Assert.That((string?)subscribed[4]!["status"], Is.EqualTo("ok"));
        Assert.That((long?)subscribed[4]!["response"]!["currentWatermarks"]![topic], Is.EqualTo(3));
        Assert.That((string?)batch[3], Is.EqualTo("update_batch"));
        Assert.That((batch[0], batch[1]), Is.EqualTo(((JsonNode?)null, (JsonNode?)null)), "pushes carry no refs, so one encoding serves every connection");
        var updates = batch[4]!["updates"]!.AsArray();
        Assert.That(updates.Select(u => (long?)u!["watermark"]), Is.EqualTo(new long?[] { 1, 2, 3 }));
        Assert.That(updates[0]!["payload"]!.ToJsonString(), Is.EqualTo("""{"i":1}"""), "the payload is inline JSON");
    }

    [Test]
    public async Task Phoenix_heartbeatAndUnmatchedTopic_getPhoenixsOwnReplies()
    {
        using var socket = await ConnectAsync(RelayServerHarness.Token());

        await SendAsync(socket, """[null,"5","phoenix","heartbeat",{}]""");
        var heartbeat = await ReceiveAsync(socket);
        await SendAsync(socket, """["6","6","rooms:lobby","phx_join",{}]""");
        var unmatched = await ReceiveAsync(socket);

        Assert.That(heartbeat.ToJsonString(), Is.EqualTo("""[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]"""));
        Assert.That(unmatched.ToJsonString(), Is.EqualTo("""["6","6","rooms:lobby","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"""));
    }

    [Test]
    public async Task Phoenix_joinWithoutAnyToken_isRefusedWithUnauthorized_andJoinTokenIsAccepted()
    {
        using var socket = await ConnectAsync(token: null);

        await SendAsync(socket, """["1","1","sync:v1","phx_join",{}]""");
        var refused = await ReceiveAsync(socket);
        await SendAsync(socket, $$"""["2","2","sync:v1","phx_join",{"token":"{{RelayServerHarness.Token()}}"}]""");
        var accepted = await ReceiveAsync(socket);

        Assert.That((string?)refused[4]!["status"], Is.EqualTo("error"));
        Assert.That((string?)refused[4]!["response"]!["code"], Is.EqualTo("UNAUTHORIZED"));
        Assert.That((string?)accepted[4]!["status"], Is.EqualTo("ok"));
    }

    [Test]
    public async Task Phoenix_joinWithoutAJoinRef_isRefusedWithBadRequest_notAcknowledgedAndThenUnmatched()
    {
        using var socket = await ConnectAsync(RelayServerHarness.Token());

        // Before, it was answered ok, and every event after it "unmatched topic".
        await SendAsync(socket, """[null,"1","sync:v1","phx_join",{}]""");
        var refused = await ReceiveAsync(socket);
        await SendAsync(socket, """["2","2","sync:v1","phx_join",{}]""");
        var joined = await ReceiveAsync(socket);

        Assert.That((string?)refused[4]!["status"], Is.EqualTo("error"));
        Assert.That((string?)refused[4]!["response"]!["code"], Is.EqualTo("BAD_REQUEST"));
        Assert.That((string?)refused[4]!["response"]!["message"], Does.Contain("join_ref"));
        Assert.That((string?)joined[4]!["status"], Is.EqualTo("ok"));
    }

    [Test]
    public async Task Phoenix_nonObjectPayload_getsAnErrorReply_andTheConnectionGoesOn()
    {
        using var socket = await ConnectAsync(RelayServerHarness.Token());
        await SendAsync(socket, """["1","1","sync:v1","phx_join",{}]""");
        await ReceiveAsync(socket);

        await SendAsync(socket, """["1","2","sync:v1","subscribe",[1,2,3]]""");
        var error = await ReceiveAsync(socket);
        await SendAsync(socket, """[null,"3","phoenix","heartbeat",{}]""");

        Assert.That((string?)error[4]!["status"], Is.EqualTo("error"));
        Assert.That((string?)error[4]!["response"]!["code"], Is.EqualTo("BAD_REQUEST"));
        Assert.That((string?)(await ReceiveAsync(socket))[1], Is.EqualTo("3"));
    }

    [Test]
    public async Task Phoenix_authTokenSubprotocol_authenticatesAndIsAnsweredWithPhoenix()
    {
        using var socket = new ClientWebSocket();
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(RelayServerHarness.Token())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        socket.Options.AddSubProtocol("phoenix");
        socket.Options.AddSubProtocol("base64url.bearer.phx." + encoded);

        await socket.ConnectAsync(s_relay.Phoenix, CancellationToken.None);
        await SendAsync(socket, """["1","1","sync:v1","phx_join",{}]""");

        Assert.That(socket.SubProtocol, Is.EqualTo("phoenix"));
        Assert.That((string?)(await ReceiveAsync(socket))[4]!["status"], Is.EqualTo("ok"));
    }

    [Test]
    public async Task Phoenix_badTokenInTheQuery_isRefusedWith401BeforeTheUpgrade()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        Assert.That(() => socket.ConnectAsync(new Uri($"{s_relay.Phoenix}&token=not.a.jwt"), CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        Assert.That((int)socket.HttpStatusCode, Is.EqualTo(401));
    }
}
