using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Relay.Protocol.Json;

/// <summary>
/// A field's names in the proto3 JSON mapping, taken from its descriptor: written as the lowerCamelCase
/// JSON name, read as either that or the proto field name, as the mapping requires.
/// </summary>
internal sealed class JsonField
{
    private readonly byte[] _protoName;

    private JsonField(string jsonName, string protoName)
    {
        Name = JsonEncodedText.Encode(jsonName);
        _protoName = Encoding.UTF8.GetBytes(protoName);
    }

    /// <summary>The name written, e.g. <c>docKey</c>.</summary>
    public JsonEncodedText Name { get; }

    /// <summary>The proto field name, e.g. <c>doc_key</c>, also accepted when reading.</summary>
    public ReadOnlySpan<byte> ProtoName => _protoName;

    public static JsonField Of(MessageDescriptor message, int fieldNumber)
    {
        var field = message.FindFieldByNumber(fieldNumber);
        return new(field.JsonName, field.Name);
    }

    /// <summary>A JSON field outside the proto messages, e.g. a Phoenix join param.</summary>
    public static JsonField Named(string name) => new(name, name);
}
