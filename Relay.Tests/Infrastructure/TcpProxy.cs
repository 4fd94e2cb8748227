using System.Net;
using System.Net.Sockets;

namespace Relay.Tests;

/// <summary>
/// A TCP proxy on loopback that can stop forwarding the connections it holds without closing them, as a NAT or a load
/// balancer that forgot an idle connection does, while it forwards the connections opened afterwards.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Upstream, CancellationTokenSource Forwarding)> _held = [];
    private readonly Task _accepting;

    private TcpProxy(string host, int port)
    {
        (_host, _port) = (host, port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port to connect to instead of the upstream's.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Forwards to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpProxy Start(string host, int port) => new(host, port);

    /// <summary>Stops forwarding on every connection held now, either way, and keeps them open: what is sent is never answered.</summary>
    public void BlackHoleHeld()
    {
        lock (_held)
        {
            _held.ForEach(held => held.Forwarding.Cancel());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_held)
        {
            foreach (var (client, upstream, forwarding) in _held)
            {
                forwarding.Dispose();
                client.Dispose();
                upstream.Dispose();
            }
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var upstream = new TcpClient();
            NetworkStream fromClient, fromUpstream;
            try
            {
                await upstream.ConnectAsync(_host, _port, _stop.Token);
                (fromClient, fromUpstream) = (client.GetStream(), upstream.GetStream());
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or InvalidOperationException)
            {
                // The client gave up meanwhile (its socket is no longer connected: beside stress-ng a test failed so),
                // or the proxy is being disposed.
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            var forwarding = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            lock (_held)
            {
                _held.Add((client, upstream, forwarding));
            }
            _ = ForwardAsync(fromClient, fromUpstream, forwarding.Token);
            _ = ForwardAsync(fromUpstream, fromClient, forwarding.Token);
        }
    }

    private static async Task ForwardAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken);
            // Closed by one side: the other hears it.
            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // Black-holed, closed by either side, or the proxy disposed: the copy ends, the sockets stay as they are.
        }
    }
}
