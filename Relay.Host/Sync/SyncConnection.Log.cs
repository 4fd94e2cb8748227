using Relay.Core.Diagnostics;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Host + 20, LogLevel.Information, "Refused {What} from a client; closing its connection")]
        public static partial void Refused(ILogger logger, string what);

        [LoggerMessage(RelayEventIds.Host + 21, LogLevel.Information, "Bad request from {Client}: {Message} ({More} more from this connection since its last such line)")]
        public static partial void BadRequest(ILogger logger, string client, string message, long more);

        [LoggerMessage(RelayEventIds.Host + 33, LogLevel.Information, "{More} more bad requests from {Client} since the last such line, when its connection ended")]
        public static partial void BadRequestsUnreported(ILogger logger, string client, long more);

        [LoggerMessage(RelayEventIds.Host + 22, LogLevel.Warning, "A send blocked for {Timeout}: disconnecting a slow consumer, {Client}")]
        public static partial void SlowConsumer(ILogger logger, TimeSpan timeout, string client);

        [LoggerMessage(RelayEventIds.Host + 23, LogLevel.Information, "Closing the connection of {Client}, silent for {Silent}")]
        public static partial void Idle(ILogger logger, string client, TimeSpan silent);

        [LoggerMessage(RelayEventIds.Host + 24, LogLevel.Debug, "A connection dropped: {Reason}")]
        public static partial void Dropped(ILogger logger, string reason);

        [LoggerMessage(RelayEventIds.Host + 25, LogLevel.Error, "The subscription to {Topic} failed")]
        public static partial void PumpFailed(ILogger logger, string topic, Exception exception);

        [LoggerMessage(RelayEventIds.Host + 36, LogLevel.Warning,
            "The subscription to {Topic} failed: the relay's database role lacks a right ({Reason}); grant it (docs/deployment.md, Rights: SELECT on attached tables)")]
        public static partial void PumpRightMissing(ILogger logger, string topic, string reason);

        [LoggerMessage(RelayEventIds.Host + 26, LogLevel.Warning, "The subscription to {Topic} ended (UNAVAILABLE, the client resubscribes): {Reason}")]
        public static partial void PumpUnavailable(ILogger logger, string topic, string reason);

        [LoggerMessage(RelayEventIds.Host + 27, LogLevel.Warning, "A Subscribe to {Topic} was answered UNAVAILABLE: {Reason}")]
        public static partial void SubscribeUnavailable(ILogger logger, string topic, string reason);

        [LoggerMessage(RelayEventIds.Host + 28, LogLevel.Information, "Closing the connection of {Client}: its token expired (UNAUTHORIZED, 1008)")]
        public static partial void TokenExpired(ILogger logger, string client);

        [LoggerMessage(RelayEventIds.Host + 32, LogLevel.Error, "A connection failed inside the relay (INTERNAL, 1011)")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(RelayEventIds.Host + 30, LogLevel.Information, "Closing a Phoenix connection that joined with no token in time (UNAUTHORIZED, 1008)")]
        public static partial void NoTokenInTime(ILogger logger);
    }
}
