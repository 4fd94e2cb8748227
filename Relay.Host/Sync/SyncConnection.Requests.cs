using OpenAgents.Sync.V1;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;
using Relay.Protocol;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    private int _subscriptionCount;

    /// <summary>Handles a request envelope (whatever the framing) and queues its one answer.</summary>
    protected async Task HandleRequestAsync(ClientEnvelope request, CancellationToken cancellationToken)
    {
        if (RefusedForLongRef(request.Ref))
        {
            return;
        }
        if (request.MessageCase == ClientEnvelope.MessageOneofCase.Subscribe)
        {
            var (subscribed, plan) = await SubscribeAsync(request.Subscribe, cancellationToken);
            subscribed.Ref = request.Ref;
            if (plan is not null)
            {
                // The subscriptions this one replaces stop first: nothing of theirs may follow Subscribed.
                foreach (var topic in plan.Topics)
                {
                    await StopPumpAsync(topic);
                }
            }
            Reply(subscribed);
            if (plan is not null)
            {
                Start(plan, cancellationToken);
            }
            return;
        }
        var answer = request.MessageCase switch
        {
            ClientEnvelope.MessageOneofCase.Unsubscribe => await UnsubscribeAsync(request.Unsubscribe),
            ClientEnvelope.MessageOneofCase.RefreshAuth => await RefreshAuthAsync(request.RefreshAuth.Token),
            ClientEnvelope.MessageOneofCase.Ping => new ServerEnvelope { Ack = new Ack() },
            _ => Errors.Create(ErrorCode.BadRequest, "the envelope holds no request this relay knows"),
        };
        answer.Ref = request.Ref;
        Reply(answer);
    }

    /// <summary>
    /// Swaps in a fresh token of the same subject and organisation. Subscriptions its scopes no longer cover end with
    /// a <c>FORBIDDEN_TOPIC</c> push. A refused token leaves the current one in force until it expires.
    /// </summary>
    protected async Task<ServerEnvelope> RefreshAuthAsync(string token)
    {
        var result = Identity is { } current
            ? await Context.Tokens.ValidateRefreshAsync(current, token)
            : await Context.Tokens.ValidateAsync(token);
        if (result.Principal is not { } principal)
        {
            return Errors.Create(ErrorCode.Unauthorized, $"token refused: {result.Failure!.ReasonName}");
        }
        Identity = principal;
        foreach (var topic in SubscribedTopics().Where(topic => !principal.Scopes.Allows(topic)))
        {
            await StopPumpAsync(topic);
            Push(Errors.Create(ErrorCode.ForbiddenTopic, $"the refreshed token's scopes do not cover {topic}", topic));
        }
        return new ServerEnvelope { Ack = new Ack() };
    }

    private async Task<(ServerEnvelope Answer, SubscribePlan? Plan)> SubscribeAsync(Subscribe request, CancellationToken cancellationToken)
    {
        var topics = request.Topics.Distinct(StringComparer.Ordinal).ToList();
        if (Validate(request, topics) is { } invalid)
        {
            LogBadRequest(invalid.Error.Message);
            return (invalid, null);
        }
        if (Identity is not { } identity)
        {
            return (Errors.Create(ErrorCode.Unauthorized, "join with a token first"), null);
        }
        if (topics.FirstOrDefault(topic => !identity.Scopes.Allows(topic)) is { } forbidden)
        {
            return (Errors.NotCovered(forbidden), null);
        }

        var opened = new List<Subscription>();
        var stale = new List<StaleCursorException>();
        foreach (var topic in topics)
        {
            try
            {
                opened.Add(await Context.Subscriptions.OpenAsync(
                    topic, request.ResumeAfter.GetValueOrDefault(topic), request.ResumeEpochs.GetValueOrDefault(topic),
                    identity.Audience, cancellationToken));
                if (request.ResumeAfter.GetValueOrDefault(topic) > 0)
                {
                    RelayMetrics.Add(Context.Metrics.Resumes, topic);
                }
            }
            catch (UnknownTopicException)
            {
                return (Errors.Create(ErrorCode.UnknownTopic, $"no topic {topic}", topic), null);
            }
            catch (StaleCursorException e)
            {
                RelayMetrics.Add(Context.Metrics.StaleCursors, topic);
                stale.Add(e);
            }
            catch (DatabaseUnavailableException e)
            {
                Log.SubscribeUnavailable(Context.Logger, topic, e.Message);
                return (Errors.Unavailable("the journal cannot be read right now"), null);
            }
        }

        var subscribed = new Subscribed { SubscriptionId = $"s{Interlocked.Increment(ref _subscriptionCount)}" };
        foreach (var subscription in opened)
        {
            subscribed.CurrentWatermarks.Add(subscription.Topic, subscription.HeadAtOpen);
            subscribed.Epochs.Add(subscription.Topic, subscription.Epoch);
        }
        return (new ServerEnvelope { Subscribed = subscribed }, new SubscribePlan(topics, opened, stale));
    }

    /// <summary>After <c>Subscribed</c> is queued (and the subscriptions it replaces stopped): report stale ones, start.</summary>
    private void Start(SubscribePlan plan, CancellationToken cancellationToken)
    {
        foreach (var stale in plan.Stale)
        {
            Push(Errors.Create(ErrorCode.StaleCursor, stale.Message, stale.Topic));
        }
        foreach (var subscription in plan.Opened)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StartPump(subscription);
        }
    }

    private sealed record SubscribePlan(List<string> Topics, List<Subscription> Opened, List<StaleCursorException> Stale);

    private ServerEnvelope? Validate(Subscribe request, List<string> topics)
    {
        if (topics.Count == 0)
        {
            return Errors.Create(ErrorCode.BadRequest, "Subscribe names no topic");
        }
        if (topics.Count > Context.Options.MaxTopicsPerSubscribe)
        {
            return Errors.Create(ErrorCode.BadRequest, $"Subscribe names {topics.Count} topics; the limit is {Context.Options.MaxTopicsPerSubscribe}");
        }
        if (topics.FirstOrDefault(topic => !TopicName.IsValid(topic)) is { } badName)
        {
            return Errors.Create(ErrorCode.BadRequest, "not a topic name", badName.Length <= 128 ? badName : null);
        }
        if (request.ResumeAfter.Keys.FirstOrDefault(key => !topics.Contains(key)) is { } stray)
        {
            return Errors.Create(ErrorCode.BadRequest, "resume_after names a topic that topics does not list", TopicName.IsValid(stray) ? stray : null);
        }
        if (request.ResumeEpochs.Keys.FirstOrDefault(key => !topics.Contains(key)) is { } strayEpoch)
        {
            return Errors.Create(ErrorCode.BadRequest, "resume_epochs names a topic that topics does not list", TopicName.IsValid(strayEpoch) ? strayEpoch : null);
        }
        if (request.ResumeAfter.Values.Any(watermark => watermark < 0))
        {
            return Errors.Create(ErrorCode.BadRequest, "resume_after watermarks are not negative");
        }
        var total = PumpCount + topics.Count(topic => !IsSubscribed(topic));
        return total > Context.Options.MaxTopicsPerConnection
            ? Errors.Create(ErrorCode.BadRequest, $"a connection may subscribe to at most {Context.Options.MaxTopicsPerConnection} topics")
            : null;
    }

    private bool IsSubscribed(string topic)
    {
        lock (_pumpsGate)
        {
            return _pumps.ContainsKey(topic);
        }
    }

    private async Task<ServerEnvelope> UnsubscribeAsync(Unsubscribe request)
    {
        if (request.Topics.Count == 0 || request.Topics.Any(topic => !TopicName.IsValid(topic)))
        {
            return Errors.Create(ErrorCode.BadRequest, "Unsubscribe names no topic, or something that is not a topic name");
        }
        foreach (var topic in request.Topics)
        {
            // Awaited: no update of the topic may follow the Ack.
            await StopPumpAsync(topic);
        }
        return new ServerEnvelope { Ack = new Ack() };
    }
}
