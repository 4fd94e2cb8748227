using System.Threading.Channels;
using FsCheck;
using FsCheck.Fluent;
using OpenAgents.Sync.V1;

namespace Relay.Tests.Sync.StateMachine;

/// <summary>
/// Property-based test (FsCheck) of a connection's subscribe state machine over a real relay socket: random sessions of
/// Subscribe (resume points valid, ahead of the head, of the topic's epoch or another's), Unsubscribe, resubscribing the
/// same topic, unknown and forbidden topics, RefreshAuth, Ping and duplicate refs, with publishes interleaved. Every
/// session is read by a <see cref="SessionChecker"/>, then must end with each subscribed topic delivered up to its head
/// and a heartbeat naming exactly the topics the model says are subscribed.
/// </summary>
public sealed class SubscribeStateMachineTests
{
    private const int Sessions = 30;
    private const int TopicCount = 3;
    private const string OtherEpoch = "an-epoch-of-another-database";

    private static readonly StepKind[] s_kinds =
    [
        StepKind.Subscribe, StepKind.Subscribe, StepKind.Subscribe, StepKind.SubscribeWithEpoch, StepKind.SubscribeWithEpoch,
        StepKind.SubscribeOtherEpoch, StepKind.SubscribeAhead, StepKind.SubscribeUnknown, StepKind.SubscribeForbidden,
        StepKind.Unsubscribe, StepKind.Unsubscribe, StepKind.RefreshAuth, StepKind.RefreshAuthInvalid, StepKind.Ping,
        StepKind.Publish, StepKind.Publish, StepKind.Publish, StepKind.Publish,
    ];

    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() =>
        s_relay = await RelayServerHarness.StartAsync(new Dictionary<string, string> { ["Relay:Sync:HeartbeatInterval"] = "00:00:00.200" });

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static Gen<SessionStep> Step =>
        from kind in Gen.Elements(s_kinds)
        from topic in Gen.Choose(0, TopicCount - 1)
        from amount in Gen.Choose(0, 100)
        from @ref in Gen.Elements("a", "b", "dup", "")
        select new SessionStep(kind, topic, kind == StepKind.Publish ? 1 + amount % 3 : amount, @ref);

    private static Gen<List<SessionStep>> Session => Gen.Choose(5, 20).SelectMany(length => Step.ListOf(length));

    [Test]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002", Justification = "FsCheck checks synchronous properties, and NUnit runs tests without a synchronization context, so the wait cannot deadlock.")]
    public void Session_randomRequestsAndPublishes_repliesInOrderDeliversWithoutGapOrDuplicate_andEndsAsTheModel() =>
        Prop.ForAll(Session.ToArbitrary(), steps => RunAsync(steps).GetAwaiter().GetResult())
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Sessions));

    private static async Task<bool> RunAsync(List<SessionStep> steps)
    {
        var topics = new string[TopicCount];
        var heads = new long[TopicCount];
        var epochs = new string[TopicCount];
        for (var i = 0; i < TopicCount; i++)
        {
            topics[i] = await TestTopics.CreateAsync(test: "state_machine");
            heads[i] = await PublishAsync(topics[i], 3);
            epochs[i] = (await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topics[i]))!;
        }
        var checker = new SessionChecker();
        var model = new HashSet<string>();
        await using var client = await WsClient.ConnectAsync(s_relay);
        var received = Channel.CreateUnbounded<ServerEnvelope>();
        var receiving = ReceiveAsync(client, received.Writer);
        foreach (var step in steps)
        {
            var topic = topics[step.Topic];
            var after = heads[step.Topic] * step.Amount / 100;
            switch (step.Kind)
            {
                case StepKind.Publish:
                    heads[step.Topic] = await PublishAsync(topic, step.Amount);
                    break;
                case StepKind.Subscribe or StepKind.SubscribeWithEpoch:
                case StepKind.SubscribeOtherEpoch when after == 0: // from the start of the journal: no watermark to mistake
                    var epoch = step.Kind switch { StepKind.SubscribeWithEpoch => epochs[step.Topic], StepKind.SubscribeOtherEpoch => OtherEpoch, _ => null };
                    checker.ExpectSubscribed(await SubscribeAsync(client, step.Ref, topic, after, epoch), topic, after);
                    model.Add(topic);
                    break;
                case StepKind.SubscribeOtherEpoch or StepKind.SubscribeAhead:
                    var stale = step.Kind == StepKind.SubscribeAhead ? (heads[step.Topic] + 1000, (string?)null) : (after, OtherEpoch);
                    checker.ExpectStale(await SubscribeAsync(client, step.Ref, topic, stale.Item1, stale.Item2), topic);
                    model.Remove(topic);
                    break;
                case StepKind.SubscribeUnknown:
                    checker.ExpectReply(await SubscribeAsync(client, step.Ref, "test.no_such_topic", 0, null), $"Error {ErrorCode.UnknownTopic}");
                    break;
                case StepKind.SubscribeForbidden:
                    checker.ExpectReply(await SubscribeAsync(client, step.Ref, "runtime.run_summaries", 0, null), $"Error {ErrorCode.ForbiddenTopic}");
                    break;
                case StepKind.Unsubscribe:
                    checker.ExpectUnsubscribed(await client.SendAsync(new ClientEnvelope { Ref = step.Ref, Unsubscribe = new Unsubscribe { Topics = { topic } } }), topic);
                    model.Remove(topic);
                    break;
                case StepKind.RefreshAuth or StepKind.RefreshAuthInvalid:
                    var token = step.Kind == StepKind.RefreshAuth ? RelayServerHarness.Token() : "not-a-token";
                    var refreshed = await client.SendAsync(new ClientEnvelope { Ref = step.Ref, RefreshAuth = new RefreshAuth { Token = token } });
                    checker.ExpectReply(refreshed, step.Kind == StepKind.RefreshAuth ? "Ack" : $"Error {ErrorCode.Unauthorized}");
                    break;
                case StepKind.Ping:
                    checker.ExpectReply(await client.SendAsync(new ClientEnvelope { Ref = step.Ref, Ping = new Ping() }), "Ack");
                    break;
            }
            while (received.Reader.TryRead(out var envelope))
            {
                checker.Read(envelope);
            }
        }
        checker.ExpectReply(await client.SendAsync(new ClientEnvelope { Ref = "end", Ping = new Ping() }), "Ack");
        var final = await SettleAsync(checker, received.Reader, topics, heads);
        await client.DisposeAsync();
        await receiving;

        Assert.That(checker.Problems, Is.Empty, string.Join(Environment.NewLine, [.. steps.Select(s => $"{s}"), .. checker.Problems.Distinct().Take(10)]));
        Assert.That(checker.Subscribed, Is.EquivalentTo(model), "the topics subscribed, as the relay's replies say");
        Assert.That(final, Is.EquivalentTo(model), "the topics subscribed, as the last heartbeat says");
        return true;
    }

    /// <summary>
    /// Reads until every reply and STALE_CURSOR has come and each subscribed topic is delivered up to its head, then
    /// returns the topics of the next heartbeat.
    /// </summary>
    private static async Task<List<string>> SettleAsync(SessionChecker checker, ChannelReader<ServerEnvelope> received, string[] topics, long[] heads)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var settled = false;
        while (true)
        {
            ServerEnvelope envelope;
            try
            {
                envelope = await received.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                Assert.Fail($"the session did not settle: {checker.PendingReplies} replies and {checker.PendingStaleCursors} STALE_CURSOR pending, "
                    + $"delivered {string.Join(", ", checker.Delivered.Select(d => $"{d.Key}@{d.Value}"))}; {string.Join("; ", checker.Problems.Distinct().Take(10))}");
                throw;
            }
            catch (ChannelClosedException)
            {
                Assert.Fail($"the relay closed the connection; {string.Join("; ", checker.Problems.Distinct().Take(10))}");
                throw;
            }
            if (settled && envelope.Heartbeat is { } heartbeat)
            {
                checker.Read(envelope);
                return [.. heartbeat.Watermarks.Keys];
            }
            checker.Read(envelope);
            settled = checker.PendingReplies == 0 && checker.PendingStaleCursors == 0
                && topics.Select((topic, i) => (topic, i)).All(t => !checker.Subscribed.Contains(t.topic) || checker.Delivered[t.topic] == heads[t.i]);
        }
    }

    private static async Task ReceiveAsync(WsClient client, ChannelWriter<ServerEnvelope> received)
    {
        try
        {
            while (await client.ReceiveAsync(TimeSpan.FromMinutes(2)) is { } envelope)
            {
                received.TryWrite(envelope);
            }
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The session is over.
        }
        received.Complete();
    }

    private static Task<string> SubscribeAsync(WsClient client, string @ref, string topic, long after, string? epoch) =>
        client.SendAsync(new ClientEnvelope
        {
            Ref = @ref,
            Subscribe = new Subscribe
            {
                Topics = { topic },
                ResumeAfter = { [topic] = after },
                ResumeEpochs = { epoch is null ? [] : new Dictionary<string, string> { [topic] = epoch } },
            },
        });

    /// <summary>Publishes <paramref name="count"/> documents (versions of three keys) and returns the topic's head.</summary>
    private static async Task<long> PublishAsync(string topic, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || $2, '{\"n\":1}')", topic, $"{i % 3}");
        }
        return (await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic));
    }
}
