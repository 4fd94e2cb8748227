namespace Relay.Tests.Sync.StateMachine;

/// <summary>What a <see cref="SessionStep"/> does.</summary>
public enum StepKind
{
    /// <summary>Subscribe from a watermark between 0 and the head (<see cref="SessionStep.Amount"/> percent of it), no epoch.</summary>
    Subscribe,

    /// <summary>Subscribe from a watermark between 0 and the head, with the topic's epoch.</summary>
    SubscribeWithEpoch,

    /// <summary>
    /// Subscribe from a watermark between 0 and the head, with an epoch of another database: STALE_CURSOR, unless from 0
    /// (the start of the journal, where no watermark can be mistaken).
    /// </summary>
    SubscribeOtherEpoch,

    /// <summary>Subscribe from far above the head: STALE_CURSOR.</summary>
    SubscribeAhead,

    /// <summary>Subscribe to a topic that does not exist: UNKNOWN_TOPIC, nothing changes.</summary>
    SubscribeUnknown,

    /// <summary>Subscribe to a topic outside the token's scopes: FORBIDDEN_TOPIC, nothing changes.</summary>
    SubscribeForbidden,

    /// <summary>Unsubscribe (a topic not subscribed is ignored).</summary>
    Unsubscribe,

    /// <summary>RefreshAuth with a fresh token: Ack.</summary>
    RefreshAuth,

    /// <summary>RefreshAuth with a token that is not one: UNAUTHORIZED, the old token stays in force.</summary>
    RefreshAuthInvalid,

    /// <summary>Ping: Ack.</summary>
    Ping,

    /// <summary>Publish <see cref="SessionStep.Amount"/> documents to the topic through SQL (no request).</summary>
    Publish,
}
