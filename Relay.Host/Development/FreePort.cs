using System.Net;
using System.Net.Sockets;

namespace Relay.Host.Development;

/// <summary>Picks a TCP port free on the loopback interface right now.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
