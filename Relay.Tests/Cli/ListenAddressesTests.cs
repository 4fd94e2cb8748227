using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Relay.Host.Development;
using Relay.Host.Hosting;

namespace Relay.Tests.Cli;

/// <summary>The listen addresses tried before serving: a port in use is refused, one only lingering after a restart is not.</summary>
public sealed class ListenAddressesTests
{
    private static readonly IConfiguration s_noSettings = new ConfigurationBuilder().Build();

    [Test]
    public void Check_portWithAListener_isRefusedAsKestrelWould()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var refused = Assert.Throws<IOException>(() => ListenAddresses.Check($"http://127.0.0.1:{FreePort.Next()};http://127.0.0.1:{port}", s_noSettings));

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

        Assert.DoesNotThrow(() => ListenAddresses.Check($"http://127.0.0.1:{port}", s_noSettings));
    }

    [Test]
    public void Check_malformedAddress_throwsKestrelsFormatException()
    {
        Assert.Throws<FormatException>(() => ListenAddresses.Check("notaurl", s_noSettings));
    }

    [TestCase("http://127.0.0.1:99999", "the port is not one (0 to 65535)")]
    [TestCase("http://127.0.0.1:{port}/base", "the relay serves at the root of its address, not under /base")]
    [TestCase("https://127.0.0.1:{port}", "https needs a certificate")]
    [TestCase("http://192.0.2.7:{port}", "192.0.2.7 is not an address of this host")]
    public void Check_addressTheRelayCannotServe_isRefusedSayingWhatToGive(string url, string reason)
    {
        url = url.Replace("{port}", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var refused = Assert.Throws<InvalidListenAddressException>(() => ListenAddresses.Check(url, s_noSettings));

        Assert.That(refused!.Message, Does.StartWith($"{url}: {reason}"));
    }

    [Test]
    public void Check_httpsWithACertificateConfigured_isLeftToKestrel()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Kestrel:Certificates:Default:Path"] = "relay.pfx" }).Build();

        Assert.DoesNotThrow(() => ListenAddresses.Check($"https://127.0.0.1:{FreePort.Next()}", settings));
    }
}
