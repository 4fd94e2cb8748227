using System.Text.Json;
using OpenAgents.Sync.V1;
using Case = OpenAgents.Sync.V1.ServerEnvelope.MessageOneofCase;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="ServerEnvelope"/>: <c>{"ref": ..., "&lt;message&gt;": {...}}</c>.</summary>
internal static class ServerEnvelopeJson
{
    private static readonly JsonField _ref = Field(ServerEnvelope.RefFieldNumber);
    private static readonly JsonField _subscribed = Field(ServerEnvelope.SubscribedFieldNumber);
    private static readonly JsonField _updateBatch = Field(ServerEnvelope.UpdateBatchFieldNumber);
    private static readonly JsonField _heartbeat = Field(ServerEnvelope.HeartbeatFieldNumber);
    private static readonly JsonField _error = Field(ServerEnvelope.ErrorFieldNumber);
    private static readonly JsonField _ack = Field(ServerEnvelope.AckFieldNumber);

    public static void Write(Utf8JsonWriter writer, ServerEnvelope envelope)
    {
        writer.WriteStartObject();
        writer.WriteField(_ref, envelope.Ref);
        switch (envelope.MessageCase)
        {
            case Case.Subscribed:
                writer.WritePropertyName(_subscribed.Name);
                SubscribedJson.Write(writer, envelope.Subscribed);
                break;
            case Case.UpdateBatch:
                writer.WritePropertyName(_updateBatch.Name);
                UpdateBatchJson.Write(writer, envelope.UpdateBatch);
                break;
            case Case.Heartbeat:
                writer.WritePropertyName(_heartbeat.Name);
                HeartbeatJson.Write(writer, envelope.Heartbeat);
                break;
            case Case.Error:
                writer.WritePropertyName(_error.Name);
                ErrorJson.Write(writer, envelope.Error);
                break;
            case Case.Ack:
                writer.WriteEmptyObject(_ack);
                break;
            default:
                throw new ArgumentException("The envelope holds no message.", nameof(envelope));
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads the envelope's fields into <paramref name="envelope"/>.</summary>
    public static void Read(ref JsonCursor json, ServerEnvelope envelope)
    {
        while (json.NextProperty())
        {
            var isSet = envelope.MessageCase != Case.None;
            if (json.Is(_ref))
            {
                envelope.Ref = json.String(_ref);
            }
            else if (json.Is(_subscribed))
            {
                if (json.StartOneof(_subscribed, isSet))
                {
                    envelope.Subscribed = SubscribedJson.Read(ref json);
                }
            }
            else if (json.Is(_updateBatch))
            {
                if (json.StartOneof(_updateBatch, isSet))
                {
                    envelope.UpdateBatch = UpdateBatchJson.Read(ref json);
                }
            }
            else if (json.Is(_heartbeat))
            {
                if (json.StartOneof(_heartbeat, isSet))
                {
                    envelope.Heartbeat = HeartbeatJson.Read(ref json);
                }
            }
            else if (json.Is(_error))
            {
                if (json.StartOneof(_error, isSet))
                {
                    envelope.Error = ErrorJson.Read(ref json);
                }
            }
            else if (json.Is(_ack))
            {
                if (json.StartOneof(_ack, isSet))
                {
                    json.SkipObject();
                    envelope.Ack = new Ack();
                }
            }
            else
            {
                json.SkipValue();
            }
        }
    }

    private static JsonField Field(int number) => JsonField.Of(ServerEnvelope.Descriptor, number);
}
