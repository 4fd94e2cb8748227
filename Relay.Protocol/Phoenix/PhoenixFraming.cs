using System.Buffers;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Protocol.Json;
using Case = OpenAgents.Sync.V1.ServerEnvelope.MessageOneofCase;

namespace Relay.Protocol.Phoenix;

/// <summary>
/// Phoenix Channels V2 JSON framing on <c>/socket/websocket?vsn=2.0.0</c>, so that the stock <c>phoenix</c>
/// JS client connects unmodified. Each text frame is <c>[join_ref, ref, topic, event, payload]</c>; the
/// payload of each event is the JSON mapping (as in <see cref="JsonFraming"/>) of the proto message it carries.
/// </summary>
public sealed partial class PhoenixFraming : IFraming<PhoenixClientFrame>
{
    /// <summary>The channel every sync event goes through.</summary>
    public const string ChannelTopic = "sync:v1";

    /// <summary>The topic of Phoenix's own heartbeats.</summary>
    public const string HeartbeatTopic = "phoenix";

    private static readonly JsonEncodedText _status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText _response = JsonEncodedText.Encode("response");
    private static readonly JsonEncodedText _reason = JsonEncodedText.Encode("reason");

    /// <summary>
    /// Writes a server envelope. <c>Subscribed</c>, <c>Ack</c> and an <c>Error</c> with a ref become a
    /// <c>phx_reply</c> to that ref, carrying <paramref name="joinRef"/>. <c>UpdateBatch</c>, <c>Heartbeat</c> and
    /// an <c>Error</c> without a ref become pushes with join_ref and ref null, so that one encoding serves every
    /// connection.
    /// </summary>
    /// <param name="envelope">The envelope.</param>
    /// <param name="joinRef">The join_ref of the channel, written on replies.</param>
    /// <param name="output">Where the frame goes.</param>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static void Encode(ServerEnvelope envelope, string? joinRef, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        var @ref = ProtocolException.NullIfEmpty(envelope.Ref);
        switch (envelope.MessageCase)
        {
            case Case.Subscribed:
                StartReply(writer, joinRef, @ref, ChannelTopic, ok: true);
                SubscribedJson.Write(writer, envelope.Subscribed);
                EndReply(writer);
                break;
            case Case.Ack:
                StartReply(writer, joinRef, @ref, ChannelTopic, ok: true);
                WriteEmptyObject(writer);
                EndReply(writer);
                break;
            case Case.Error when @ref is not null:
                StartReply(writer, joinRef, @ref, ChannelTopic, ok: false);
                ErrorJson.Write(writer, envelope.Error);
                EndReply(writer);
                break;
            case Case.Error:
                StartFrame(writer, null, null, ChannelTopic, PhoenixEvents.Error);
                ErrorJson.Write(writer, envelope.Error);
                writer.WriteEndArray();
                break;
            case Case.UpdateBatch:
                StartFrame(writer, null, null, ChannelTopic, PhoenixEvents.UpdateBatch);
                UpdateBatchJson.Write(writer, envelope.UpdateBatch);
                writer.WriteEndArray();
                break;
            case Case.Heartbeat:
                StartFrame(writer, null, null, ChannelTopic, PhoenixEvents.Heartbeat);
                HeartbeatJson.Write(writer, envelope.Heartbeat);
                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException("The envelope holds no message.", nameof(envelope));
        }
    }

    /// <summary>Returns a server frame; see <see cref="Encode(ServerEnvelope, string?, IBufferWriter{byte})"/>.</summary>
    /// <exception cref="ArgumentException">The envelope holds no message.</exception>
    public static byte[] Encode(ServerEnvelope envelope, string? joinRef) =>
        JsonSettings.Write(envelope, (e, output) => Encode(e, joinRef, output));

    /// <summary>Writes the <c>ok</c> reply to a client's <c>heartbeat</c> on topic <c>phoenix</c>.</summary>
    public static void EncodeHeartbeatReply(PhoenixClientFrame heartbeat, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        StartReply(writer, heartbeat.JoinRef, heartbeat.Ref, heartbeat.Topic, ok: true);
        WriteEmptyObject(writer);
        EndReply(writer);
    }

    /// <summary>
    /// Writes Phoenix's own answer to an event on a topic other than <c>sync:v1</c> (or a heartbeat on a topic
    /// other than <c>phoenix</c>): an <c>error</c> reply with <c>{"reason": "unmatched topic"}</c>.
    /// </summary>
    public static void EncodeUnmatchedTopicReply(PhoenixClientFrame request, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        StartReply(writer, request.JoinRef, request.Ref, request.Topic, ok: false);
        writer.WriteStartObject();
        writer.WriteString(_reason, "unmatched topic");
        writer.WriteEndObject();
        EndReply(writer);
    }

    private static void StartFrame(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, string eventName)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(joinRef);
        writer.WriteStringValue(@ref);
        writer.WriteStringValue(topic);
        writer.WriteStringValue(eventName);
    }

    private static void StartReply(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, bool ok)
    {
        StartFrame(writer, joinRef, @ref, topic, PhoenixEvents.Reply);
        writer.WriteStartObject();
        writer.WriteString(_status, ok ? "ok" : "error");
        writer.WritePropertyName(_response);
    }

    private static void EndReply(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    private static void WriteEmptyObject(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}
