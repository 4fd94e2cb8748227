using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Relay.Protocol.Json;

/// <summary>Writes fields in the proto3 JSON mapping; as the mapping says, default values are left out.</summary>
internal static class JsonWriterExtensions
{
    public static void WriteField(this Utf8JsonWriter writer, JsonField field, string value)
    {
        if (value.Length > 0)
        {
            writer.WriteString(field.Name, value);
        }
    }

    /// <summary>Writes an int64 as a JSON number, not the mapping's string (see WS_MAPPING.md).</summary>
    public static void WriteField(this Utf8JsonWriter writer, JsonField field, long value)
    {
        if (value != 0)
        {
            writer.WriteNumber(field.Name, value);
        }
    }

    public static void WriteField(this Utf8JsonWriter writer, JsonField field, uint value)
    {
        if (value != 0)
        {
            writer.WriteNumber(field.Name, value);
        }
    }

    public static void WriteField(this Utf8JsonWriter writer, JsonField field, bool value)
    {
        if (value)
        {
            writer.WriteBoolean(field.Name, value);
        }
    }

    public static void WriteField(this Utf8JsonWriter writer, JsonField field, RepeatedField<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        writer.WriteStartArray(field.Name);
        for (var i = 0; i < values.Count; i++)
        {
            writer.WriteStringValue(values[i]);
        }

        writer.WriteEndArray();
    }

    public static void WriteField(this Utf8JsonWriter writer, JsonField field, MapField<string, long> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        writer.WriteStartObject(field.Name);
        foreach (var (key, value) in values)
        {
            writer.WriteNumber(key, value);
        }

        writer.WriteEndObject();
    }

    public static void WriteField(this Utf8JsonWriter writer, JsonField field, MapField<string, string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        writer.WriteStartObject(field.Name);
        foreach (var (key, value) in values)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    public static void WriteBase64Field(this Utf8JsonWriter writer, JsonField field, ByteString value)
    {
        if (!value.IsEmpty)
        {
            writer.WriteBase64String(field.Name, value.Span);
        }
    }

    /// <summary>
    /// Writes UTF-8 JSON text verbatim as the field's value. Not validated, to keep fan-out cheap: the
    /// caller guarantees valid JSON (PostgreSQL's jsonb output always is).
    /// </summary>
    public static void WriteRawJsonField(this Utf8JsonWriter writer, JsonField field, ByteString json)
    {
        if (!json.IsEmpty)
        {
            writer.WritePropertyName(field.Name);
            writer.WriteRawValue(json.Span, skipInputValidation: true);
        }
    }

    /// <summary>Writes <c>{}</c>, the mapping of a message without fields.</summary>
    public static void WriteEmptyObject(this Utf8JsonWriter writer, JsonField field)
    {
        writer.WriteStartObject(field.Name);
        writer.WriteEndObject();
    }
}
