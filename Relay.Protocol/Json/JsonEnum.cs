using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Relay.Protocol.Json;

/// <summary>An enum's value names, written as JSON strings and read from strings or numbers.</summary>
internal sealed class JsonEnum
{
    private readonly Dictionary<int, JsonEncodedText> _names;
    private readonly Dictionary<string, int> _numbers;

    public JsonEnum(EnumDescriptor descriptor)
    {
        _names = descriptor.Values.ToDictionary(v => v.Number, v => JsonEncodedText.Encode(v.Name));
        _numbers = descriptor.Values.ToDictionary(v => v.Name, v => v.Number, StringComparer.Ordinal);
    }

    /// <summary>Writes a non-zero value by name; a number this build does not know is written as a number.</summary>
    public void WriteField(Utf8JsonWriter writer, JsonField field, int value)
    {
        if (value == 0)
        {
            return;
        }

        if (_names.TryGetValue(value, out var name))
        {
            writer.WriteString(field.Name, name);
        }
        else
        {
            writer.WriteNumber(field.Name, value);
        }
    }

    /// <summary>
    /// The number of a value name. A name this build does not know reads as 0 (unspecified), so that a
    /// client keeps working when a newer server adds values.
    /// </summary>
    public int NumberOf(string name) => _numbers.GetValueOrDefault(name);
}
