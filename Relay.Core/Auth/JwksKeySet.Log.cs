using Microsoft.Extensions.Logging;
using Relay.Core.Diagnostics;

namespace Relay.Core.Auth;

internal sealed partial class JwksKeySet
{
    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Auth + 1, LogLevel.Information, "Loaded {Count} keys from {Path}: {KeyIds}")]
        public static partial void Loaded(ILogger logger, string path, int count, string keyIds);

        [LoggerMessage(RelayEventIds.Auth + 2, LogLevel.Information, "Reloaded {Path}, which changed: {Count} keys: {KeyIds}")]
        public static partial void Reloaded(ILogger logger, string path, int count, string keyIds);

        [LoggerMessage(RelayEventIds.Auth + 3, LogLevel.Warning, "Could not reload {Path} ({Error}); keeping the {Count} keys loaded before")]
        public static partial void ReloadFailed(ILogger logger, string path, string? error, int count);

        [LoggerMessage(RelayEventIds.Auth + 4, LogLevel.Warning, "Ignored the key {KeyId} of {Path}: it {Reason}")]
        public static partial void KeyIgnored(ILogger logger, string path, string keyId, string reason);
    }
}
