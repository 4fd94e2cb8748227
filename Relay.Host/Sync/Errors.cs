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
}
