using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Relay.Host.Development;
using Relay.Host.Hosting;

namespace Relay.Tests.Cli;

/// <summary>The listen addresses tried before serving: a port in use is refused, one only lingering after a restart is not.</summary>
public sealed class ListenAddressesTests
{
    [Test]
    public void Check_portWithAListener_isRefusedAsKestrelWould()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var refused = Assert.Throws<IOException>(() => ListenAddresses.Check($"http://127.0.0.1:{FreePort.Next()};http://127.0.0.1:{port}"));

        Assert.That(refused!.Message, Is.EqualTo($"Failed to bind to address http://127.0.0.1:{port}: address already in use."));
        Assert.That(refused.InnerException, Is.InstanceOf<AddressInUseException>());
    }

    [Test]
    public async Task Check_portLeftInTimeWaitByARelayThatStopped_isFree()
    {
        int port;
        using (var previous = new TcpListener(IPAddress.Loopback, 0))
        {
            previous.Start();
            port = ((IPEndPoint)previous.LocalEndpoint).Port;
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            // The server side closes first, so its end of the connection lingers in TIME_WAIT on the relay's port.
            using (var accepted = await previous.AcceptTcpClientAsync())
            {
                accepted.Client.Close();
            }
            Assert.That(await client.GetStream().ReadAsync(new byte[1]), Is.Zero, "the client saw the close");
        }

        Assert.DoesNotThrow(() => ListenAddresses.Check($"http://127.0.0.1:{port}"));
    }

    [Test]
    public void Check_malformedAddress_throwsKestrelsFormatException()
    {
        Assert.Throws<FormatException>(() => ListenAddresses.Check("notaurl"));
    }
}
