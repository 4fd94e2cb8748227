using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Relay.Host.Hosting;

/// <summary>
/// The relay's listen addresses, read and tried before serving needs a database: a malformed address or a port
/// another process holds stops the start at once, not after the embedded cluster, the migration and the replication
/// slot, where Kestrel would only find it when it binds. Kestrel binds them again afterwards, so a port taken in
/// between still fails there, with the same line.
/// </summary>
internal static class ListenAddresses
{
    /// <summary>Parses each of <paramref name="urls"/> (separated by <c>;</c>) and refuses one whose port is in use.</summary>
    /// <exception cref="FormatException">An address is not <c>http://HOST:PORT</c> (Kestrel's own message).</exception>
    /// <exception cref="IOException">Another socket listens on an address; the inner exception is an <see cref="AddressInUseException"/>.</exception>
    public static void Check(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            foreach (var endpoint in EndPoints(address))
            {
                using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(endpoint);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                {
                    // The form of Kestrel's own failure, so that one line describes both.
                    throw new IOException($"Failed to bind to address {address}: address already in use.", new AddressInUseException(e.Message, e));
                }
                catch (SocketException)
                {
                    // Any other refusal (say, no IPv6 loopback on this host) is Kestrel's to judge when it binds.
                }
            }
        }
    }

    /// <summary>What Kestrel binds for an address: both loopbacks for <c>localhost</c>, the IP itself, or any IP.</summary>
    private static IEnumerable<IPEndPoint> EndPoints(BindingAddress address)
    {
        if (address.IsUnixPipe || address.IsNamedPipe || address.Port == 0)
        {
            yield break;
        }
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            yield return new IPEndPoint(IPAddress.Loopback, address.Port);
            if (Socket.OSSupportsIPv6)
            {
                yield return new IPEndPoint(IPAddress.IPv6Loopback, address.Port);
            }
        }
        else
        {
            yield return new IPEndPoint(IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) ? ip : IPAddress.Any, address.Port);
        }
    }
}
