using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OpenAgents.Sync.V1;
using Relay.Core.Schema;
using Relay.Host.Development;

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
    public async Task RequestFailingInsideTheRelay_isToldInternal_andClosedWith1011()
    {
        var database = await DatabaseProvisioner.ProvisionAsync(
            null, new LocalClusterOptions { Directory = Path.Combine(Path.GetTempPath(), $"relay-broken-{Guid.NewGuid():N}"), Durable = false },
            NullLogger.Instance);
        await using var _ = database;
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }
        await using var relay = await RelayServerHarness.StartAsync(settings: new Dictionary<string, string> { ["Relay:Feed"] = "notify" }, connectionString: database.ConnectionString);
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(scopes: "runtime.*"));
        // Not an outage (that is UNAVAILABLE): the relay's query of the topic fails with an undefined column.
        await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await dataSource.CreateCommand("ALTER TABLE relay.topics RENAME COLUMN epoch TO epoch_renamed").ExecuteNonQueryAsync();
        }

        await client.SubscribeAsync("runtime.run_summaries");
        var received = new List<ServerEnvelope>();
        while (await client.ReceiveAsync() is { } envelope)
        {
            received.Add(envelope);
        }

        Assert.That(received.Select(e => e.Error?.Code), Does.Contain(ErrorCode.Internal));
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.InternalServerError));
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

    [Test]
    public async Task ClientSendingOnlyPingFrames_isActive_andNotClosedAtTheIdleTimeout()
    {
        await using var relay = await RelayServerHarness.StartAsync(Fast);
        // A raw socket: .NET's client cannot be told to send ping frames on its own schedule.
        using var socket = await RawWebSocket.ConnectAsync(relay, RelayServerHarness.Token());

        // Ping frames every 200 ms, and nothing else, for three idle timeouts.
        for (var i = 0; i < 15; i++)
        {
            await socket.SendAsync(RawWebSocket.Ping, []);
            await Task.Delay(200);
        }
        await socket.SendAsync(RawWebSocket.Binary, Relay.Protocol.ProtoFraming.Encode(new ClientEnvelope { Ref = "p", Ping = new Ping() }));
        var answer = await socket.ReceiveEnvelopeAsync(e => e.Ref == "p");

        Assert.That(answer?.MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack), "the relay closed the connection instead");
    }

    [Test]
    public async Task RelayStopping_refusesNewUpgradesWith503AndRetryAfter()
    {
        var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:ShutdownTimeout"] = "00:00:20" });
        await using var lingering = await WsClient.ConnectAsync(relay);

        // The lingering client does not answer the close, so shutdown waits for it: meanwhile the relay still listens.
        var stopping = relay.DisposeAsync().AsTask();
        var notice = await lingering.ReceiveAsync();
        using var http = relay.HttpClient();
        using var upgrade = new HttpRequestMessage(HttpMethod.Get, "/sync/v1/ws");
        upgrade.Headers.Add("Connection", "Upgrade");
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Sec-WebSocket-Version", "13");
        upgrade.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        upgrade.Headers.Add("Sec-WebSocket-Protocol", Relay.Protocol.SyncEndpoints.ProtoSubprotocol);
        upgrade.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RelayServerHarness.Token());
        using var refused = await http.SendAsync(upgrade);
        await lingering.DisposeAsync();
        await stopping;

        Assert.That(notice?.Error?.Code, Is.EqualTo(ErrorCode.Unavailable));
        Assert.That(refused.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.ServiceUnavailable));
        Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("UNAVAILABLE"));
    }

    [Test]
    public async Task Request_withARefOver64Bytes_getsBadRequest_andTheConnectionStays()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = await WsClient.ConnectAsync(relay, Relay.Protocol.SyncEndpoints.JsonSubprotocol);

        await client.SendAsync(new ClientEnvelope { Ref = new string('r', 65), Ping = new Ping() });
        var refused = (await client.ReceiveUntilAsync(e => e.Error is not null))[^1];
        var fine = await client.SendAsync(new ClientEnvelope { Ref = new string('r', 64), Ping = new Ping() });
        var answer = (await client.ReceiveUntilAsync(e => e.Ref == fine))[^1];

        Assert.That((refused.Error.Code, refused.Ref), Is.EqualTo((ErrorCode.BadRequest, "")));
        Assert.That(answer.MessageCase, Is.EqualTo(ServerEnvelope.MessageOneofCase.Ack));
    }

    [Test]
    public async Task Watermarks_onOneConnection_neverGoBackwards_acrossBatchesAndHeartbeats()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:HeartbeatInterval"] = "00:00:00.001" });
        var topics = new[] { await TestTopics.CreateAsync(), await TestTopics.CreateAsync(), await TestTopics.CreateAsync() };
        await using var client = await WsClient.ConnectAsync(relay);
        await client.SendAsync(new ClientEnvelope { Subscribe = new Subscribe { Topics = { topics } } });

        var writers = topics.Select(topic => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || n, '{}') FROM generate_series(1, 20) n", topic);
            }
        })).ToArray();
        var seen = topics.ToDictionary(t => t, _ => 0L);
        var backwards = new List<string>();
        while (seen.Values.Any(w => w < 1000))
        {
            var envelope = await client.ReceiveAsync() ?? throw new AssertionException($"closed: {client.CloseStatus}");
            var watermarks = envelope.UpdateBatch?.Watermarks ?? envelope.Heartbeat?.Watermarks;
            foreach (var (topic, watermark) in watermarks ?? [])
            {
                if (watermark < seen[topic])
                {
                    backwards.Add($"{envelope.MessageCase} {topic}: {watermark} after {seen[topic]}");
                }
                seen[topic] = Math.Max(seen[topic], watermark);
            }
        }
        await Task.WhenAll(writers);

        Assert.That(backwards, Is.Empty);
    }
}
