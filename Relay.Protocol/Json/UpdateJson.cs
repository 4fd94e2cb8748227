using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>
/// JSON mapping of <see cref="Update"/>, with one departure from proto3 JSON: the payload is the document's
/// JSON inline, not base64. The hash stays base64, as the mapping has it.
/// </summary>
internal static class UpdateJson
{
    private static readonly JsonField _topic = Field(Update.TopicFieldNumber);
    private static readonly JsonField _docKey = Field(Update.DocKeyFieldNumber);
    private static readonly JsonField _docVersion = Field(Update.DocVersionFieldNumber);
    private static readonly JsonField _payload = Field(Update.PayloadFieldNumber);
    private static readonly JsonField _watermark = Field(Update.WatermarkFieldNumber);
    private static readonly JsonField _tombstone = Field(Update.TombstoneFieldNumber);
    private static readonly JsonField _payloadOmitted = Field(Update.PayloadOmittedFieldNumber);
    private static readonly JsonField _payloadHash = Field(Update.PayloadHashFieldNumber);

    public static void Write(Utf8JsonWriter writer, Update update)
    {
        writer.WriteStartObject();
        writer.WriteField(_topic, update.Topic);
        writer.WriteField(_docKey, update.DocKey);
        writer.WriteField(_docVersion, update.DocVersion);
        writer.WriteRawJsonField(_payload, update.Payload);
        writer.WriteField(_watermark, update.Watermark);
        writer.WriteField(_tombstone, update.Tombstone);
        writer.WriteField(_payloadOmitted, update.PayloadOmitted);
        writer.WriteBase64Field(_payloadHash, update.PayloadHash);
        writer.WriteEndObject();
    }

    public static Update Read(ref JsonCursor json)
    {
        var update = new Update();
        while (json.NextProperty())
        {
            if (json.Is(_topic))
            {
                update.Topic = json.String(_topic);
            }
            else if (json.Is(_docKey))
            {
                update.DocKey = json.String(_docKey);
            }
            else if (json.Is(_docVersion))
            {
                update.DocVersion = json.Int64(_docVersion);
            }
            else if (json.Is(_payload))
            {
                update.Payload = json.RawValue();
            }
            else if (json.Is(_watermark))
            {
                update.Watermark = json.Int64(_watermark);
            }
            else if (json.Is(_tombstone))
            {
                update.Tombstone = json.Bool(_tombstone);
            }
            else if (json.Is(_payloadOmitted))
            {
                update.PayloadOmitted = json.Bool(_payloadOmitted);
            }
            else if (json.Is(_payloadHash))
            {
                update.PayloadHash = json.Base64(_payloadHash);
            }
            else
            {
                json.SkipValue();
            }
        }

        return update;
    }

    private static JsonField Field(int number) => JsonField.Of(Update.Descriptor, number);
}
