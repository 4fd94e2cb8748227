using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Tests;

/// <summary>
/// A WebSocket client written over a plain TCP socket (RFC 6455), for what a stock client will not do on request:
/// send ping frames on its own schedule. Speaks the binary subprotocol.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawWebSocket> ConnectAsync(RelayServerHarness relay, string token)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", relay.Port);
        var socket = new RawWebSocket(tcp);
        var handshake =
            $"GET /sync/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{relay.Port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))}\r\n" +
            $"Sec-WebSocket-Protocol: {SyncEndpoints.ProtoSubprotocol}\r\nAuthorization: Bearer {token}\r\n\r\n";
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        var response = new StringBuilder();
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            response.Append((char)await socket.ReadByteAsync());
        }
        Assert.That(response.ToString(), Does.StartWith("HTTP/1.1 101"));
        return socket;
    }

    /// <summary>Sends one final, masked frame (a client's frames are always masked).</summary>
    public async Task SendAsync(byte opcode, byte[] payload)
    {
        var frame = new List<byte> { (byte)(0x80 | opcode) };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            frame.AddRange([0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length]);
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        await _stream.WriteAsync(frame.ToArray());
    }

    /// <summary>Binary frames decoded as envelopes until one matches; null when the relay closes first.</summary>
    public async Task<ServerEnvelope?> ReceiveEnvelopeAsync(Func<ServerEnvelope, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var (opcode, payload) = await ReceiveFrameAsync(timeout.Token);
            if (opcode == Close)
            {
                return null;
            }
            if (opcode == Binary && ProtoFraming.DecodeServer(payload) is var envelope && match(envelope))
            {
                return envelope;
            }
        }
    }

    public void Dispose() => _tcp.Dispose();

    private async Task<(byte Opcode, byte[] Payload)> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        var header = await ReadExactlyAsync(2, cancellationToken);
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var extended = await ReadExactlyAsync(2, cancellationToken);
            length = (extended[0] << 8) | extended[1];
        }
        else if (length == 127)
        {
            length = BitConverter.ToInt64([.. (await ReadExactlyAsync(8, cancellationToken)).Reverse()]);
        }
        return ((byte)(header[0] & 0x0F), await ReadExactlyAsync((int)length, cancellationToken));
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    private async Task<byte> ReadByteAsync() => (await ReadExactlyAsync(1, CancellationToken.None))[0];
}
