using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Protocol.Json;

namespace Relay.Protocol.Phoenix;

public sealed partial class PhoenixFraming
{
    private static readonly JsonField _token = JsonField.Named("token");

    /// <summary>
    /// Reads a frame sent by a Phoenix client. The topic is returned as sent: checking it against
    /// <see cref="ChannelTopic"/> or <see cref="HeartbeatTopic"/> is the caller's job.
    /// </summary>
    /// <exception cref="ProtocolException">
    /// The frame is malformed: not a five-element array of strings and an object, an unknown event, a
    /// payload that is not an object or does not map to the event's message. The exception carries the
    /// frame's join_ref, ref and topic when they were read, so that the server can reply.
    /// </exception>
    public static PhoenixClientFrame Decode(ReadOnlySpan<byte> frame)
    {
        string? joinRef = null, @ref = null, topic = null;
        try
        {
            var json = new JsonCursor(frame);
            if (json.TokenType != JsonTokenType.StartArray)
            {
                throw InvalidFrame("A Phoenix frame must be a JSON array [join_ref, ref, topic, event, payload].");
            }

            joinRef = NextRef(ref json, "join_ref");
            @ref = NextRef(ref json, "ref");
            topic = NextString(ref json, "topic");
            var header = new PhoenixClientFrame(joinRef, @ref, topic, ParseEvent(NextString(ref json, "event")));
            var result = ReadPayload(ref json, header);
            if (json.NextElement())
            {
                throw InvalidFrame("A Phoenix frame has exactly five elements.");
            }

            json.End();
            return result;
        }
        catch (Exception e) when (JsonFraming.IsDecodeError(e))
        {
            var error = JsonFraming.WithRef(e, @ref ?? "");
            error.JoinRef ??= joinRef;
            error.Topic ??= topic;
            throw error;
        }
    }

    private static PhoenixClientFrame ReadPayload(ref JsonCursor json, PhoenixClientFrame header)
    {
        if (!json.NextElement())
        {
            throw InvalidFrame("A Phoenix frame has exactly five elements.");
        }

        if (json.TokenType != JsonTokenType.StartObject)
        {
            throw new ProtocolException(ProtocolErrorKind.NonObjectPayload, "The payload of a Phoenix frame must be a JSON object.");
        }

        var @ref = header.Ref ?? "";
        switch (header.Event)
        {
            case PhoenixClientEvent.Join:
                return header with { Token = ReadJoinToken(ref json) };
            case PhoenixClientEvent.Subscribe:
                return header with { Envelope = new ClientEnvelope { Ref = @ref, Subscribe = SubscribeJson.Read(ref json) } };
            case PhoenixClientEvent.Unsubscribe:
                return header with { Envelope = new ClientEnvelope { Ref = @ref, Unsubscribe = UnsubscribeJson.Read(ref json) } };
            case PhoenixClientEvent.RefreshAuth:
                return header with { Envelope = new ClientEnvelope { Ref = @ref, RefreshAuth = RefreshAuthJson.Read(ref json) } };
            default:
                json.SkipObject();
                return header;
        }
    }

    /// <summary>The join params: <c>token</c> is used, anything else the application passes is ignored.</summary>
    private static string? ReadJoinToken(ref JsonCursor json)
    {
        string? token = null;
        while (json.NextProperty())
        {
            if (json.Is(_token))
            {
                token = ProtocolException.NullIfEmpty(json.String(_token));
            }
            else
            {
                json.SkipValue();
            }
        }

        return token;
    }

    private static PhoenixClientEvent ParseEvent(string name) => name switch
    {
        PhoenixEvents.Join => PhoenixClientEvent.Join,
        PhoenixEvents.Leave => PhoenixClientEvent.Leave,
        PhoenixEvents.Heartbeat => PhoenixClientEvent.Heartbeat,
        PhoenixEvents.Subscribe => PhoenixClientEvent.Subscribe,
        PhoenixEvents.Unsubscribe => PhoenixClientEvent.Unsubscribe,
        PhoenixEvents.RefreshAuth => PhoenixClientEvent.RefreshAuth,
        _ => throw new ProtocolException(ProtocolErrorKind.UnknownEvent, $"Unknown event '{Truncate(name)}'."),
    };

    private static string? NextRef(ref JsonCursor json, string element)
    {
        if (!json.NextElement())
        {
            throw InvalidFrame("A Phoenix frame has exactly five elements.");
        }

        return json.TokenType switch
        {
            JsonTokenType.String => json.GetString(),
            JsonTokenType.Null => null,
            _ => throw InvalidFrame($"The {element} of a Phoenix frame must be a string or null."),
        };
    }

    private static string NextString(ref JsonCursor json, string element)
    {
        if (!json.NextElement())
        {
            throw InvalidFrame("A Phoenix frame has exactly five elements.");
        }

        return json.TokenType == JsonTokenType.String
            ? json.GetString()
            : throw InvalidFrame($"The {element} of a Phoenix frame must be a string.");
    }

    private static ProtocolException InvalidFrame(string message) => new(ProtocolErrorKind.InvalidFrame, message);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
