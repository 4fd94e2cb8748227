using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Protocol.Json;

namespace Relay.Protocol;

/// <summary>
/// The <c>openagents.sync.v1.json</c> subprotocol: each text frame is one envelope in the proto3 JSON
/// mapping, with two departures: payloads are the documents' JSON inline (not base64), and int64 values
/// are written as JSON numbers (strings are accepted on input). See docs/protocol/WS_MAPPING.md.
/// </summary>
public sealed class JsonFraming : IFraming<ClientEnvelope>
{
    /// <summary>The framing, as the Host's connections use it.</summary>
    public static readonly JsonFraming Instance = new();

    private JsonFraming()
    {
    }

    /// <inheritdoc/>
    public string Name => "json";

    /// <inheritdoc/>
    public string Subprotocol => SyncEndpoints.JsonSubprotocol;

    /// <inheritdoc/>
    public WebSocketMessageType MessageType => WebSocketMessageType.Text;

    /// <inheritdoc/>
    byte[] IFraming.EncodePush(ServerEnvelope envelope) => Encode(envelope);

    /// <inheritdoc/>
    byte[] IFraming.EncodeReply(ServerEnvelope envelope, string? channel) => Encode(envelope);

    /// <inheritdoc/>
    ClientEnvelope IFraming<ClientEnvelope>.DecodeClient(ReadOnlySpan<byte> frame) => DecodeClient(frame);

    /// <summary>Writes a server frame. Payloads must be valid UTF-8 JSON; they are copied unchecked.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static void Encode(ServerEnvelope envelope, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        ServerEnvelopeJson.Write(writer, envelope);
    }

    /// <summary>Returns a server frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static byte[] Encode(ServerEnvelope envelope) => JsonSettings.Write(envelope, Encode);

    /// <summary>Writes a client frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static void Encode(ClientEnvelope envelope, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        ClientEnvelopeJson.Write(writer, envelope);
    }

    /// <summary>Returns a client frame.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static byte[] Encode(ClientEnvelope envelope) => JsonSettings.Write(envelope, Encode);

    /// <summary>Reads a frame sent by a client. Unknown fields are ignored, as in the binary framing.</summary>
    /// <exception cref="ProtocolException">The frame is malformed or holds no known message.</exception>
    public static ClientEnvelope DecodeClient(ReadOnlySpan<byte> frame)
    {
        var envelope = new ClientEnvelope();
        try
        {
            var json = StartObject(frame);
            ClientEnvelopeJson.Read(ref json, envelope);
            json.End();
        }
        catch (Exception e) when (IsDecodeError(e))
        {
            throw WithRef(e, envelope.Ref);
        }

        return envelope.MessageCase != ClientEnvelope.MessageOneofCase.None
            ? envelope
            : throw ProtoFraming.UnknownMessage(envelope.Ref);
    }

    /// <summary>Reads a frame sent by the server.</summary>
    /// <exception cref="ProtocolException">The frame is malformed or holds no known message.</exception>
    public static ServerEnvelope DecodeServer(ReadOnlySpan<byte> frame)
    {
        var envelope = new ServerEnvelope();
        try
        {
            var json = StartObject(frame);
            ServerEnvelopeJson.Read(ref json, envelope);
            json.End();
        }
        catch (Exception e) when (IsDecodeError(e))
        {
            throw WithRef(e, envelope.Ref);
        }

        return envelope.MessageCase != ServerEnvelope.MessageOneofCase.None
            ? envelope
            : throw ProtoFraming.UnknownMessage(envelope.Ref);
    }

    /// <summary>
    /// Whether <paramref name="exception"/> comes from reading malformed JSON: the reader throws
    /// <see cref="JsonException"/> for bad syntax and <see cref="InvalidOperationException"/> for strings
    /// that are not valid UTF-16 once unescaped (lone surrogates).
    /// </summary>
    internal static bool IsDecodeError(Exception exception) =>
        exception is ProtocolException or JsonException or InvalidOperationException;

    /// <summary>The typed error for a decode error, naming the request's ref when it was read.</summary>
    internal static ProtocolException WithRef(Exception exception, string @ref)
    {
        var error = exception as ProtocolException ?? JsonCursor.InvalidJson(exception);
        error.Ref ??= ProtocolException.NullIfEmpty(@ref);
        return error;
    }

    private static JsonCursor StartObject(ReadOnlySpan<byte> frame)
    {
        var json = new JsonCursor(frame);
        return json.TokenType == JsonTokenType.StartObject
            ? json
            : throw new ProtocolException(ProtocolErrorKind.InvalidFrame, "A frame must be a JSON object.");
    }
}
