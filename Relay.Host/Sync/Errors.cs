using OpenAgents.Sync.V1;

namespace Relay.Host.Sync;

/// <summary>Builds the <c>Error</c> envelopes of WS_MAPPING §8.</summary>
internal static class Errors
{
    public static ServerEnvelope Create(ErrorCode code, string message, string? topic = null, string? @ref = null, uint retryAfterMs = 0) => new()
    {
        Ref = @ref ?? "",
        Error = new Error { Code = code, Message = message, Topic = topic ?? "", RetryAfterMs = retryAfterMs },
    };

    /// <summary>How long a client waits before retrying after <c>UNAVAILABLE</c> (plus its own jitter): 1 s.</summary>
    public const uint RetryAfterMs = 1000;

    public static ServerEnvelope Unavailable(string message, uint retryAfterMs = RetryAfterMs, string? topic = null, string? @ref = null) =>
        Create(ErrorCode.Unavailable, message, topic, @ref, retryAfterMs);

    /// <summary>What every connection is told before the close of a shutdown.</summary>
    public static ServerEnvelope Restarting() => Unavailable("the relay is restarting");

    /// <summary><c>FORBIDDEN_TOPIC</c> for a <c>Subscribe</c> naming a topic outside the token's scopes.</summary>
    public static ServerEnvelope NotCovered(string topic) => Create(ErrorCode.ForbiddenTopic, $"the token's scopes do not cover {topic}", topic);
}
