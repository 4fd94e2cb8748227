using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relay.Protocol.Hydration;

/// <summary>
/// A payload as JSON inline, copied verbatim both ways: written unchecked (it comes from PostgreSQL's <c>jsonb</c>), read as
/// the exact bytes of the value, so the client hashes what the relay sent.
/// </summary>
public sealed class RawJsonConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    /// <inheritdoc/>
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var value = JsonDocument.ParseValue(ref reader);
        return JsonMarshal.GetRawUtf8Value(value.RootElement).ToArray();
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Span, skipInputValidation: true);
}
