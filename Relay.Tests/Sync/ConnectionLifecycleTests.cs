using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Sync;

public sealed class ConnectionLifecycleTests
{
    private static Dictionary<string, string> Fast => new()
    {
        ["Relay:Sync:HeartbeatInterval"] = "00:00:00.200",
        ["Relay:Sync:IdleTimeout"] = "00:00:01",
    };

    [Test]
    public async Task Heartbeat_onATopicWhoseEventsTheClientMayNotSee_stillAdvancesItsCursor()
    {
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        var topic = await TestTopics.CreateAsync(requireOrg: true);
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(org: "org-1"));
        await client.SubscribeAsync(topic);
        await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);

        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}', 'org-2') FROM generate_series(1, 3) i", topic);
        var received = await client.ReceiveUntilAsync(e => e.Heartbeat?.Watermarks.GetValueOrDefault(topic) == 3);

        Assert.That(received.Where(e => e.UpdateBatch?.Updates.Count > 0), Is.Empty, "another organisation's documents");
    }

    [Test]
    public async Task SilentClient_isClosedAfterTheIdleTimeout()
    {
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        await using var client = await WsClient.ConnectAsync(relay);

        while (await client.ReceiveAsync() is not null)
        {
            // Heartbeats until the idle close.
        }

        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
    }

    [Test]
    public async Task RelayStopping_closesConnectionsWith1012AfterUnavailable()
    {
        var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay);

        var stopping = relay.DisposeAsync().AsTask();
        var error = await client.ReceiveAsync();
        var close = await client.ReceiveAsync();
        await stopping;

        Assert.That((error!.Error.Code, error.Error.RetryAfterMs > 0), Is.EqualTo((ErrorCode.Unavailable, true)));
        Assert.That((close, client.CloseStatus), Is.EqualTo(((ServerEnvelope?)null, (WebSocketCloseStatus?)1012)));
    }

    [Test]
    public async Task RefreshAuth_freshTokenOfTheSameOrg_isAcknowledged()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(lifetime: TimeSpan.FromMinutes(1)));

        var refreshRef = await client.SendAsync(new ClientEnvelope { RefreshAuth = new RefreshAuth { Token = RelayServerHarness.Token() } });

        var answer = await client.ReceiveUntilAsync(e => e.Ref == refreshRef);
        Assert.That(answer[^1].MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack));
    }

    [Test]
    public async Task RefreshAuth_tokenOfAnotherOrg_isRefusedAndTheOldTokenStays()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay);

        var refreshRef = await client.SendAsync(new ClientEnvelope { RefreshAuth = new RefreshAuth { Token = RelayServerHarness.Token(org: "org-2") } });
        var answer = (await client.ReceiveUntilAsync(e => e.Ref == refreshRef))[^1];
        var pingRef = await client.SendAsync(new ClientEnvelope { Ping = new Ping() });

        Assert.That(answer.Error.Code, Is.EqualTo(ErrorCode.Unauthorized));
        Assert.That((await client.ReceiveUntilAsync(e => e.Ref == pingRef))[^1].MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack));
    }

    [Test]
    public async Task Token_expiringWithoutRefresh_getsUnauthorizedAndClose1008()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Auth:ClockSkew"] = "00:00:00" });
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(lifetime: TimeSpan.FromSeconds(2)));

        var received = await client.ReceiveUntilAsync(e => e.Error is not null);

        Assert.That(received[^1].Error.Code, Is.EqualTo(ErrorCode.Unauthorized));
        Assert.That(await client.ReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task Subscribe_outsideTheTokensScopes_getsForbiddenTopicForThatTopic()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(scopes: "runtime.run_summaries"));

        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { "runtime.run_summaries", "runtime.notifications" } } });
        var error = (await client.ReceiveAsync())!.Error;

        Assert.That((error.Code, error.Topic), Is.EqualTo((ErrorCode.ForbiddenTopic, "runtime.notifications")));
    }
}
