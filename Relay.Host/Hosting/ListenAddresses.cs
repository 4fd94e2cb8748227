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
    /// <summary>
    /// Parses each of <paramref name="urls"/> (separated by <c>;</c>) and refuses one the relay cannot serve: a port out
    /// of range, a path, <c>https</c> without a certificate in <paramref name="configuration"/>
    /// (<c>Kestrel:Certificates:Default</c>), an IP address this host does not have, a port in use.
    /// </summary>
    /// <exception cref="FormatException">An address is not <c>http://HOST:PORT</c> (Kestrel's own message).</exception>
    /// <exception cref="InvalidListenAddressException">An address the relay cannot serve, said with what to do.</exception>
    /// <exception cref="IOException">Another socket listens on an address; the inner exception is an <see cref="AddressInUseException"/>.</exception>
    public static void Check(string urls, IConfiguration configuration)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            if (address.Port is < 0 or > IPEndPoint.MaxPort)
            {
                throw new InvalidListenAddressException($"{url}: the port is not one (0 to {IPEndPoint.MaxPort}); give --urls as http://HOST:PORT");
            }
            if (address.PathBase.Length > 0)
            {
                throw new InvalidListenAddressException(
                    $"{url}: the relay serves at the root of its address, not under {address.PathBase}; give --urls without a path and let a proxy map one");
            }
            if (string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase) && !configuration.GetSection("Kestrel:Certificates:Default").Exists())
            {
                throw new InvalidListenAddressException(
                    $"{url}: https needs a certificate (Kestrel__Certificates__Default__Path and __KeyPath, docs/deployment.md); or listen on http:// behind a proxy that terminates TLS");
            }
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
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable && !address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidListenAddressException(
                        $"{url}: {endpoint.Address} is not an address of this host; listen on one of its addresses, or on 0.0.0.0 for all");
                }
                catch (SocketException)
                {
                    // Any other refusal (say, no IPv6 loopback for localhost on this host) is Kestrel's to judge when it binds.
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

/// <summary>A listen address the relay cannot serve; the message says what to give instead.</summary>
internal sealed class InvalidListenAddressException(string message) : Exception(message);
