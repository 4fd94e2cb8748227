using Relay.Core.Diagnostics;

namespace Relay.Host.Development;

public sealed partial class LocalCluster
{
    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Provisioning + 1, LogLevel.Information, "Initialized a PostgreSQL cluster at {Directory}")]
        public static partial void Initialized(ILogger logger, string directory);

        [LoggerMessage(RelayEventIds.Provisioning + 2, LogLevel.Information, "Started the PostgreSQL cluster at {Directory} on 127.0.0.1:{Port}")]
        public static partial void Started(ILogger logger, string directory, int port);

        [LoggerMessage(RelayEventIds.Provisioning + 3, LogLevel.Information, "Stopped the PostgreSQL cluster at {Directory}")]
        public static partial void Stopped(ILogger logger, string directory);
    }
}
