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

    public static ServerEnvelope Unavailable(string message, uint retryAfterMs, string? @ref = null) =>
        Create(ErrorCode.Unavailable, message, @ref: @ref, retryAfterMs: retryAfterMs);
}
