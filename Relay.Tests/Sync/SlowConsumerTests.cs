using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenAgents.Sync.V1;
using Relay.Core.Diagnostics;
using Relay.Host.Development;

namespace Relay.Tests.Sync;

public sealed class SlowConsumerTests
{
    private const int QueueBudget = 1024 * 1024;


    /// <summary>800 documents of 20 KB: about 16 MB.</summary>
    private static async Task PublishSixteenMegabytesAsync(string topic)
    {
        for (var i = 0; i < 16; i++)
        {
            await Sql.ExecuteAsync(
                "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || ($2 * 50 + n), " +
                "'payload', jsonb_build_object('fill', repeat('x', 20000)))) FROM generate_series(1, 50) n))", topic, i);
        }
    }

    [Test]
    public async Task Client_thatStopsReading_staysWithinItsQueueBudget_andDoesNotDelayOthers()
    {
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = QueueBudget.ToString(),
            ["Relay:Sync:SendTimeout"] = "00:00:05",
        });
        var topic = await TestTopics.CreateAsync();
        await using var slow = await WsClient.ConnectAsync(relay);
        await using var fast = await WsClient.ConnectAsync(relay);
        foreach (var client in new[] { slow, fast })
        {
            await client.SubscribeAsync(topic);
            await client.ReceiveUntilAsync(e => e.UpdateBatch?.CaughtUpTopics.Contains(topic) == true);
        }
        await using var queued = new QueuedBytesSampler();

        // About 16 MB for each client while the slow one reads nothing.
        await PublishSixteenMegabytesAsync(topic);
        var fastUpdates = await fast.UpdatesThroughAsync(topic, 800);

        Assert.That(fastUpdates.Select(u => u.Watermark), Is.EqualTo(Enumerable.Range(1, 800).Select(w => (long)w)));
        // One frame may exceed the budget on its own (a batch holds at most 2 MiB of payloads).
        Assert.That(queued.Max, Is.LessThanOrEqualTo(QueueBudget + 2.5 * 1024 * 1024));
        Assert.That(queued.Max, Is.GreaterThan(QueueBudget / 2), "the slow client really backed up");
        // Its sends block, so after the send timeout the relay lets it go (SLOW_CONSUMER) and keeps the other one.
        await Eventually.ThatAsync(() => queued.Connections == 1, "the slow consumer to be disconnected");
    }

    [Test]
    public async Task Client_thatSendsRequestsAndReadsNoAnswer_isNotReadWhileItsRepliesFillTheBudget_andGetsEveryAnswerWhenItReads()
    {
        const int budget = 16 * 1024;
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = budget.ToString(),
            ["Relay:Sync:SendTimeout"] = "00:01:00",
        });
        await using var client = await WsClient.ConnectAsync(relay);
        await using var queued = new QueuedBytesSampler();

        // Pings as fast as they go for 3 s, reading none of the Acks. Before, the relay read every one and queued its Ack
        // whatever the budget: megabytes a second, until the send timeout gave up on the client.
        var sent = 0;
        var flooding = Stopwatch.StartNew();
        var sending = Task.Run(async () =>
        {
            while (flooding.Elapsed < TimeSpan.FromSeconds(3))
            {
                await client.SendAsync(new ClientEnvelope { Ping = new Ping() });
                sent++;
            }
        });
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(4)));
        var maxWhileFlooding = queued.Max;

        // Reading again, it gets an Ack for every Ping (the blocked send goes through once the relay reads again).
        var acks = 0;
        while (!sending.IsCompleted || acks < sent)
        {
            var envelope = await client.ReceiveAsync();
            Assert.That(envelope, Is.Not.Null, "the connection stays open");
            acks += envelope!.Ack is not null ? 1 : 0;
        }
        await sending;

        Assert.That(maxWhileFlooding, Is.LessThanOrEqualTo(budget + 1024), "replies queued beyond the budget");
        Assert.That(sent * 2, Is.GreaterThan(budget), "the client sent more than the budget holds of Acks");
        Assert.That(acks, Is.EqualTo(sent));
    }

    [Test]
    public async Task Client_resetWhileTheRelayWaitsForItToReadItsReplies_endsItsConnection()
    {
        const int budget = 16 * 1024;
        await using var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = budget.ToString(),
            ["Relay:Sync:SendTimeout"] = "00:01:00",
        });
        var topic = await TestTopics.CreateAsync();
        await PublishSixteenMegabytesAsync(topic);
        await using var queued = new QueuedBytesSampler();
        await using var client = await WsClient.ConnectAsync(relay);
        await client.SubscribeAsync(topic);
        // It reads nothing: the relay's send blocks on the first updates, and the Acks of its Pings fill the reply budget,
        // so the relay stops reading its requests until it reads.
        await Eventually.ThatAsync(() => queued.Max > budget, "the updates to back up");
        var pinging = Task.Run(async () =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                await client.SendAsync(new ClientEnvelope { Ping = new Ping() });
            }
        });
        await Task.WhenAny(pinging, Task.Delay(TimeSpan.FromSeconds(2)));

        // Its process dies with the updates unread: its kernel resets the connection, and the relay's blocked send fails.
        client.Abort();
        await pinging.ContinueWith(_ => { }, TaskScheduler.Default);

        // Before, the relay's receive loop went on waiting for reply space, and the connection never ended.
        await Eventually.ThatAsync(() => queued.Connections == 0, "the relay to let go of the reset connection", TimeSpan.FromSeconds(20));
    }

    [Test]
    public async Task Relay_stoppingWhileASendIsBlocked_endsThatConnection_withoutAnUnhandledError()
    {
        var topic = await TestTopics.CreateAsync();
        await PublishSixteenMegabytesAsync(topic);
        var port = FreePort.Next();
        await using var relay = Cli.RelayProcess.Start(
            ["serve", "--connection-string", TestDatabase.ConnectionString, "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string>
            {
                [$"Relay__Auth__Keys__{RelayServerHarness.Key.KeyId}"] = RelayServerHarness.Key.SecretBase64,
                ["Relay__AutoMigrate"] = "false",
                ["Relay__Sync__ShutdownTimeout"] = "00:00:01",
                ["Relay__Sync__SendTimeout"] = "00:01:00",
            });
        await relay.WaitReadyAsync(port);
        await using var slow = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/sync/v1/ws"));
        await slow.SubscribeAsync(topic);
        // It reads nothing: the relay's send of its updates blocks.
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Past the shutdown timeout the relay aborts the socket under the blocked send, which then ends cancelled: that
        // escaped the send loop, skipped the rest of the connection's ending, and came out as an unhandled error.
        relay.Terminate();
        Assert.That(await relay.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, relay.Error);

        Assert.That(relay.Output + relay.Error, Does.Not.Contain("unhandled exception").IgnoreCase.And.Not.Contain("   at "));
    }

    [Test]
    public async Task Client_whoseSendBlocksPastTheTimeout_isToldSlowConsumerAndClosedWith1013_ifItReadsAgain()
    {
        await using var given = await GivenUpAsync();

        var received = await given.Slow.ReceiveUntilAsync(e => e.Error is not null);

        Assert.That(received[^1].Error.Code, Is.EqualTo(ErrorCode.SlowConsumer));
        Assert.That(await given.Slow.ReceiveAsync(), Is.Null);
        Assert.That(given.Slow.CloseStatus, Is.EqualTo((System.Net.WebSockets.WebSocketCloseStatus)1013));
    }

    [Test]
    public async Task Client_thatStillReadsNothingAfterTheGrace_isCutOff_andTheRelayLetsGoOfItsConnection()
    {
        await using var given = await GivenUpAsync();

        // It goes on reading nothing: after the grace the relay aborts the socket, and the connection must end with it.
        await Eventually.ThatAsync(() => given.Queued.Connections == 0, "the relay to let go of the aborted connection");
    }

    /// <summary>
    /// A client that subscribed to 16 MB and read nothing, once the relay gave up on its blocked send (1 s) and stopped
    /// queueing for it.
    /// </summary>
    private static async Task<GivenUp> GivenUpAsync()
    {
        var relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Sync:OutboundQueueBytes"] = QueueBudget.ToString(),
            ["Relay:Sync:SendTimeout"] = "00:00:01",
        });
        var topic = await TestTopics.CreateAsync();
        await PublishSixteenMegabytesAsync(topic);
        var queued = new QueuedBytesSampler();
        var slow = await WsClient.ConnectAsync(relay);
        await slow.SubscribeAsync(topic);
        await Eventually.ThatAsync(() => queued.Max > QueueBudget / 2, "the client's queue to back up");
        // A queue found empty does not say so: it is also empty for a moment between two frames.
        await Eventually.ThatAsync(() => queued.SlowConsumers == 1 && queued.Total == 0 && queued.Connections == 1, "the relay to give up on the blocked send");
        return new GivenUp(relay, queued, slow);
    }

    private sealed record GivenUp(RelayServerHarness Relay, QueuedBytesSampler Queued, WsClient Slow) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Slow.DisposeAsync();
            await Queued.DisposeAsync();
            await Relay.DisposeAsync();
        }
    }

    /// <summary>Samples the relay's per-connection queue gauge in the background.</summary>
    private sealed class QueuedBytesSampler : IAsyncDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;

        public QueuedBytesSampler()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RelayMetrics.MeterName
                    && instrument.Name is "relay.connections.queued.max" or "relay.connections.queued" or "relay.connections" or "relay.slow_consumer.disconnects")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "relay.connections")
                {
                    Connections = value;
                }
                else if (instrument.Name == "relay.slow_consumer.disconnects")
                {
                    SlowConsumers += value;
                }
                else if (instrument.Name == "relay.connections.queued")
                {
                    Total = value;
                }
                else
                {
                    Max = Math.Max(Max, value);
                }
            });
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Connections = value);
            _listener.Start();
            _sampling = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    _listener.RecordObservableInstruments();
                    await Task.Delay(5);
                }
            });
        }

        public long Max { get; private set; }

        public long Total { get; private set; } = -1;

        public long Connections { get; private set; } = -1;

        /// <summary>Connections the relay gave up on (<c>relay.slow_consumer.disconnects</c>) since sampling began.</summary>
        public long SlowConsumers { get; private set; }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _sampling;
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
