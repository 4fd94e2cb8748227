using System.Net;
using System.Net.WebSockets;
using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests.Sync;

/// <summary>Every kind of bad input gets its code or a refused upgrade, and never disturbs another connection.</summary>
public sealed class BadInputTests
{
    private static RelayServerHarness s_relay = null!;
    private static string s_topic = null!;
    private static WsClient s_bystander = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        s_relay = await RelayServerHarness.StartAsync();
        s_topic = await TestTopics.CreateAsync();
        s_bystander = await WsClient.ConnectAsync(s_relay);
        await s_bystander.SubscribeAsync(s_topic);
        await s_bystander.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(s_topic) == true);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await s_bystander.DisposeAsync();
        await s_relay.DisposeAsync();
    }

    /// <summary>After each misbehaving client, a well-behaved one still gets its live updates.</summary>
    [TearDown]
    public async Task BystanderStillServedAsync()
    {
        var head = await Sql.ScalarAsync<long>("SELECT (relay.publish($1, $1 || ':' || gen_random_uuid(), '{}')).watermark", s_topic);
        var updates = await s_bystander.UpdatesThroughAsync(s_topic, head);
        Assert.That(updates.Select(u => u.Watermark), Has.Member(head));
    }

    [Test]
    public async Task BinaryFrame_notProtobuf_getsBadRequestAndClose1002()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendRawAsync([0xff, 0xff, 0xff, 0x01], WebSocketMessageType.Binary);

        var error = await client.ReceiveAsync();
        Assert.That(error!.Error.Code, Is.EqualTo(ErrorCode.BadRequest));
        Assert.That(await client.ReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.ProtocolError));
    }

    [Test]
    public async Task TextFrame_onTheBinarySubprotocol_isClosedWith1003()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"ref":"1","ping":{}}"""), WebSocketMessageType.Text);

        Assert.That(await client.ReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.InvalidMessageType));
    }

    [Test]
    public async Task JsonFrame_withWrongTypes_getsBadRequestWithItsRef_andTheConnectionGoesOn()
    {
        await using var client = await WsClient.ConnectAsync(s_relay, SyncEndpoints.JsonSubprotocol);

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"ref":"7","subscribe":{"topics":"not-a-list"}}"""), WebSocketMessageType.Text);
        var error = await client.ReceiveAsync();
        var pingRef = await client.SendAsync(new ClientEnvelope { Ping = new Ping() });

        Assert.That((error!.Ref, error.Error.Code), Is.EqualTo(("7", ErrorCode.BadRequest)));
        Assert.That((await client.ReceiveAsync())!.Ref, Is.EqualTo(pingRef));
    }

    [Test]
    public async Task JsonFrame_notValidJson_getsBadRequestSayingWhere_withoutTheParsersAdviceToItsDeveloper()
    {
        await using var client = await WsClient.ConnectAsync(s_relay, SyncEndpoints.JsonSubprotocol);

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"ref":"1","ping":{},}"""), WebSocketMessageType.Text);

        var error = (await client.ReceiveAsync())!.Error;
        Assert.That(error.Code, Is.EqualTo(ErrorCode.BadRequest));
        Assert.That(error.Message, Does.StartWith("The frame is not valid JSON at line 1, byte 22: ").And.Not.Contain("reader options").And.Not.Contain("LineNumber"));
    }

    [Test]
    public async Task Frame_overOneMebibyte_getsPayloadTooLargeAndClose1009()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendRawAsync(new byte[1024 * 1024 + 1], WebSocketMessageType.Binary);

        Assert.That((await client.ReceiveAsync())!.Error.Code, Is.EqualTo(ErrorCode.PayloadTooLarge));
        Assert.That(await client.ReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
    }

    [Test]
    public async Task Message_overOneMebibyte_sentInFragmentsWhileTheClientKeepsSending_getsPayloadTooLargeAndClose1009_notAReset()
    {
        using var socket = await ConnectStreamingAsync();

        // Up to 8 MiB in fragments of 1 KiB, as a client streaming a message does, a little at a time, until the relay's
        // close arrives.
        using var closed = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var fragment = new byte[1024];
            for (var i = 0; i < 8 * 1024 && !closed.IsCancellationRequested; i++)
            {
                await socket.SendAsync(fragment, WebSocketMessageType.Binary, endOfMessage: i == 8 * 1024 - 1, CancellationToken.None);
                if (i % 8 == 0)
                {
                    await Task.Delay(1);
                }
            }
        });
        var received = new List<ServerEnvelope>();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult result;
        // Before, the relay closed the socket with the client's bytes unread: the client got a reset (1006), and the error
        // and the close it had not read yet were lost.
        while ((result = await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
            received.Add(ProtoFraming.DecodeServer(buffer.AsSpan(0, result.Count)));
        }
        await closed.CancelAsync();
        await sending;
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);

        Assert.That(received.Select(e => e.Error?.Code), Does.Contain(ErrorCode.PayloadTooLarge));
        Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
    }

    [Test]
    public async Task Client_thatGoesOnSendingAfterTheClose_isLetGoAfterFourFramesLimit_notReadForTheWholeHandshake()
    {
        using var socket = await ConnectStreamingAsync();

        // One endless message, sent as fast as the relay reads it, never reading anything and never closing. After the
        // close the relay drops what it reads, up to four times MaxInboundFrameBytes (1 MiB here), then ends the
        // connection; draining for the whole close handshake (5 s) took 151 MB from one client on loopback.
        var fragment = new byte[64 * 1024];
        long sent = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ended = await Assert.CatchAsync(async () =>
        {
            while (true)
            {
                await socket.SendAsync(fragment, WebSocketMessageType.Binary, endOfMessage: false, timeout.Token);
                sent += fragment.Length;
            }
        });

        Assert.That(ended, Is.Not.InstanceOf<OperationCanceledException>(), "the relay kept reading for 30 s");
        Assert.That(sent, Is.LessThan(32L * 1024 * 1024), "bytes the relay took before it let the client go (kernel buffers included)");
    }

    [Test]
    public async Task Subscribe_unknownTopic_getsUnknownTopicAndNothingIsSubscribed()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);
        var unknown = TestTopics.Name();

        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { s_topic, unknown } } });
        var error = (await client.ReceiveAsync())!.Error;
        var pingRef = await client.SendAsync(new ClientEnvelope { Ping = new Ping() });

        Assert.That((error.Code, error.Topic), Is.EqualTo((ErrorCode.UnknownTopic, unknown)));
        Assert.That((await client.ReceiveAsync())!.Ref, Is.EqualTo(pingRef), "no update batch: nothing was subscribed");
    }

    [TestCase("Not.A.Topic", TestName = "Subscribe_badTopicName_getsBadRequest")]
    [TestCase("", TestName = "Subscribe_emptyTopicName_getsBadRequest")]
    public async Task Subscribe_badTopicName_getsBadRequest(string topic)
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { topic } } });

        Assert.That((await client.ReceiveAsync())!.Error.Code, Is.EqualTo(ErrorCode.BadRequest));
    }

    [Test]
    public async Task Subscribe_absurdTopicCount_getsBadRequest()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { Enumerable.Range(0, 10_000).Select(i => $"test.t{i}") } } });

        Assert.That((await client.ReceiveAsync())!.Error.Code, Is.EqualTo(ErrorCode.BadRequest));
    }

    [Test]
    public async Task Subscribe_resumeAfterForATopicNotListed_getsBadRequest()
    {
        await using var client = await WsClient.ConnectAsync(s_relay);

        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { s_topic }, ResumeAfter = { ["test.other"] = 1 } } });

        Assert.That((await client.ReceiveAsync())!.Error.Code, Is.EqualTo(ErrorCode.BadRequest));
    }

    [Test]
    public async Task Subscribe_sameTopicAgain_restartsFromTheNewResumePointWithoutDuplicates()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 5) i", topic);
        await using var client = await WsClient.ConnectAsync(s_relay);
        await client.SubscribeAsync(topic);
        await client.UpdatesThroughAsync(topic, 5);

        await client.SubscribeAsync(topic, after: 3);
        var again = await client.UpdatesThroughAsync(topic, 5);

        Assert.That(again.Select(u => u.Watermark), Is.EqualTo(new long[] { 4, 5 }));
    }

    [Test]
    public async Task Upgrade_unknownSubprotocol_isRefusedWith400()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("openagents.sync.v9.xml");
        socket.Options.SetRequestHeader("Authorization", $"Bearer {RelayServerHarness.Token()}");
        socket.Options.CollectHttpResponseDetails = true;

        Assert.That(() => socket.ConnectAsync(s_relay.WebSocket, CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [TestCase(SyncEndpoints.JsonSubprotocol, SyncEndpoints.ProtoSubprotocol)]
    [TestCase(SyncEndpoints.ProtoSubprotocol, SyncEndpoints.JsonSubprotocol)]
    [TestCase("openagents.sync.v9.xml", SyncEndpoints.JsonSubprotocol)]
    public async Task Upgrade_offeringSeveralSubprotocols_getsTheFirstItKnows_inTheClientsOrder(string first, string second)
    {
        // RFC 6455 §4.1: the client lists them by preference. Before, the relay always chose the binary one, and a client
        // preferring JSON that did not check the chosen one misread binary frames (protocol review P3).
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(first);
        socket.Options.AddSubProtocol(second);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {RelayServerHarness.Token()}");

        await socket.ConnectAsync(s_relay.WebSocket, CancellationToken.None);

        Assert.That(socket.SubProtocol, Is.EqualTo(first.StartsWith("openagents.sync.v1.", StringComparison.Ordinal) ? first : second));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Test]
    public async Task Upgrade_withoutToken_isRefusedWith401()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SyncEndpoints.ProtoSubprotocol);
        socket.Options.CollectHttpResponseDetails = true;

        Assert.That(() => socket.ConnectAsync(s_relay.WebSocket, CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    /// <summary>A binary-protocol connection of the runtime's own WebSocket, for a client that sends as it pleases.</summary>
    private static async Task<ClientWebSocket> ConnectStreamingAsync()
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SyncEndpoints.ProtoSubprotocol);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {RelayServerHarness.Token()}");
        await socket.ConnectAsync(s_relay.WebSocket, CancellationToken.None);
        return socket;
    }
}
