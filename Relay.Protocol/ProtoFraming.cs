using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Google.Protobuf;
using OpenAgents.Sync.V1;

namespace Relay.Protocol;

/// <summary>The <c>openagents.sync.v1.proto</c> subprotocol: each binary frame is one protobuf-encoded envelope.</summary>
public sealed class ProtoFraming : IFraming<ClientEnvelope>
{
    /// <summary>The framing, as the Host's connections use it.</summary>
    public static readonly ProtoFraming Instance = new();

    private ProtoFraming()
    {
    }

    /// <inheritdoc/>
    public string Name => "proto";

    /// <inheritdoc/>
    public string Subprotocol => SyncEndpoints.ProtoSubprotocol;

    /// <inheritdoc/>
    public WebSocketMessageType MessageType => WebSocketMessageType.Binary;

    /// <inheritdoc/>
    byte[] IFraming.EncodePush(ServerEnvelope envelope) => Encode(envelope);

    /// <inheritdoc/>
    byte[] IFraming.EncodeReply(ServerEnvelope envelope, string? channel) => Encode(envelope);

    /// <inheritdoc/>
    ClientEnvelope IFraming<ClientEnvelope>.DecodeClient(ReadOnlySpan<byte> frame) => DecodeClient(frame);

    /// <summary>Writes a server frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static void Encode(ServerEnvelope envelope, IBufferWriter<byte> output)
    {
        RequireMessage(envelope.MessageCase != ServerEnvelope.MessageOneofCase.None, nameof(envelope));
        envelope.WriteTo(output);
    }

    /// <summary>Returns a server frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static byte[] Encode(ServerEnvelope envelope)
    {
        RequireMessage(envelope.MessageCase != ServerEnvelope.MessageOneofCase.None, nameof(envelope));
        return envelope.ToByteArray();
    }

    /// <summary>Writes a client frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static void Encode(ClientEnvelope envelope, IBufferWriter<byte> output)
    {
        RequireMessage(envelope.MessageCase != ClientEnvelope.MessageOneofCase.None, nameof(envelope));
        envelope.WriteTo(output);
    }

    /// <summary>Returns a client frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static byte[] Encode(ClientEnvelope envelope)
    {
        RequireMessage(envelope.MessageCase != ClientEnvelope.MessageOneofCase.None, nameof(envelope));
        return envelope.ToByteArray();
    }

    /// <summary>Reads a frame sent by a client. Unknown fields are kept and ignored.</summary>
    /// <exception cref="ProtocolException">The frame is malformed or holds no known message.</exception>
    public static ClientEnvelope DecodeClient(ReadOnlySpan<byte> frame)
    {
        var envelope = Parse(ClientEnvelope.Parser, frame);
        return envelope.MessageCase != ClientEnvelope.MessageOneofCase.None
            ? envelope
            : throw UnknownMessage(envelope.Ref);
    }

    /// <summary>Reads a frame sent by the server.</summary>
    /// <exception cref="ProtocolException">The frame is malformed or holds no known message.</exception>
    public static ServerEnvelope DecodeServer(ReadOnlySpan<byte> frame)
    {
        var envelope = Parse(ServerEnvelope.Parser, frame);
        return envelope.MessageCase != ServerEnvelope.MessageOneofCase.None
            ? envelope
            : throw UnknownMessage(envelope.Ref);
    }

    /// <summary>An envelope whose oneof is empty: none sent, or one from a newer version of the contract.</summary>
    internal static ProtocolException UnknownMessage(string @ref) =>
        new(ProtocolErrorKind.UnknownMessage, "The envelope holds no message this relay knows.")
        {
            Ref = ProtocolException.NullIfEmpty(@ref),
        };

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> frame)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException e) when (e.InnerException is DecoderFallbackException)
        {
            throw new ProtocolException(ProtocolErrorKind.InvalidUtf8, "A string field is not valid UTF-8.", e);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ProtocolException(ProtocolErrorKind.InvalidProtobuf, "The frame is not a valid envelope: " + e.Message, e);
        }
    }

    private static void RequireMessage(bool hasMessage, string parameterName)
    {
        if (!hasMessage)
        {
            throw new ArgumentException("The envelope holds no message.", parameterName);
        }
    }
}
