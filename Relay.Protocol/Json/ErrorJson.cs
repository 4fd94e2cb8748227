using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="Error"/>; the code is written by name, e.g. <c>"STALE_CURSOR"</c>.</summary>
internal static class ErrorJson
{
    private static readonly JsonField _code = Field(Error.CodeFieldNumber);
    private static readonly JsonField _message = Field(Error.MessageFieldNumber);
    private static readonly JsonField _retryAfterMs = Field(Error.RetryAfterMsFieldNumber);
    private static readonly JsonField _topic = Field(Error.TopicFieldNumber);
    private static readonly JsonEnum _codes = new(Error.Descriptor.FindFieldByNumber(Error.CodeFieldNumber).EnumType);

    public static void Write(Utf8JsonWriter writer, Error error)
    {
        writer.WriteStartObject();
        _codes.WriteField(writer, _code, (int)error.Code);
        writer.WriteField(_message, error.Message);
        writer.WriteField(_retryAfterMs, error.RetryAfterMs);
        writer.WriteField(_topic, error.Topic);
        writer.WriteEndObject();
    }

    public static Error Read(ref JsonCursor json)
    {
        var error = new Error();
        while (json.NextProperty())
        {
            if (json.Is(_code))
            {
                error.Code = (ErrorCode)json.Enum(_code, _codes);
            }
            else if (json.Is(_message))
            {
                error.Message = json.String(_message);
            }
            else if (json.Is(_retryAfterMs))
            {
                error.RetryAfterMs = json.UInt32(_retryAfterMs);
            }
            else if (json.Is(_topic))
            {
                error.Topic = json.String(_topic);
            }
            else
            {
                json.SkipValue();
            }
        }

        return error;
    }

    private static JsonField Field(int number) => JsonField.Of(Error.Descriptor, number);
}
