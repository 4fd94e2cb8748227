namespace Relay.Core.Subscriptions;

/// <summary>Where a subscription stands when it hands over a batch (KurrentDB's subscription states).</summary>
public enum SubscriptionPhase
{
    /// <summary>
    /// Replaying what was committed before the subscriber reached the head it was told of in <c>Subscribed</c>, or
    /// after it fell behind (the ring no longer held its position).
    /// </summary>
    Replay,

    /// <summary>
    /// This batch ends the replay: the subscriber is at the head it was told of, and what follows is live. A subscription
    /// opened at the head starts with an empty batch in this phase.
    /// </summary>
    CaughtUp,

    /// <summary>Pushed as it committed.</summary>
    Live,
}
