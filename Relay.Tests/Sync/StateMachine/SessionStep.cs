namespace Relay.Tests.Sync.StateMachine;

/// <summary>One step of a generated session: what to do, to which of the session's topics, how much, and the request's ref.</summary>
public sealed record SessionStep(StepKind Kind, int Topic, int Amount, string Ref)
{
    public override string ToString() => $"{Kind}(topic {Topic}, {Amount}, ref '{Ref}')";
}
