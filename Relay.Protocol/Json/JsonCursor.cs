using System.Text.Json;
using System.Text.Unicode;

namespace Relay.Protocol.Json;

/// <summary>
/// Walks one JSON frame: a <see cref="Utf8JsonReader"/> over the whole frame, plus the frame's text so
/// that payloads can be taken verbatim. Field readers (in <c>JsonCursor.Fields.cs</c>) start on a
/// property name and stop on the last token of its value.
/// </summary>
internal ref partial struct JsonCursor
{
    private readonly ReadOnlySpan<byte> _text;
    private Utf8JsonReader _reader;

    /// <summary>Checks that the frame is UTF-8 and moves to its root value.</summary>
    public JsonCursor(ReadOnlySpan<byte> text)
    {
        if (!Utf8.IsValid(text))
        {
            throw new ProtocolException(ProtocolErrorKind.InvalidUtf8, "The frame is not valid UTF-8.");
        }

        _text = text;
        _reader = new Utf8JsonReader(text, JsonSettings.ReaderOptions);
        Read();
    }

    public readonly JsonTokenType TokenType => _reader.TokenType;

    /// <summary>Moves to the next token.</summary>
    public void Read()
    {
        if (!_reader.Read())
        {
            throw new ProtocolException(ProtocolErrorKind.InvalidJson, "The frame holds no JSON value.");
        }
    }

    /// <summary>Checks that nothing but white space follows the root value.</summary>
    public void End()
    {
        if (_reader.Read())
        {
            throw new ProtocolException(ProtocolErrorKind.InvalidJson, "The frame holds more than one JSON value.");
        }
    }

    /// <summary>Moves to the next property name and returns true, or to the object's end and returns false.</summary>
    public bool NextProperty()
    {
        Read();
        return _reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>Moves to the next array element and returns true, or to the array's end and returns false.</summary>
    public bool NextElement()
    {
        Read();
        return _reader.TokenType != JsonTokenType.EndArray;
    }

    /// <summary>Whether the current property name is the field's JSON name or proto name.</summary>
    public readonly bool Is(JsonField field) =>
        _reader.ValueTextEquals(field.Name.EncodedUtf8Bytes) || _reader.ValueTextEquals(field.ProtoName);

    /// <summary>The current string or property name.</summary>
    public readonly string GetString() => _reader.GetString()!;

    /// <summary>Skips the value of the current property (an unknown field).</summary>
    public void SkipValue() => _reader.Skip();

    /// <summary>Skips the rest of the current object.</summary>
    public void SkipObject()
    {
        while (NextProperty())
        {
            SkipValue();
        }
    }

    /// <summary>The typed error for a JSON exception raised while walking the frame.</summary>
    public static ProtocolException InvalidJson(Exception exception) =>
        new(ProtocolErrorKind.InvalidJson, exception is JsonException { BytePositionInLine: { } at } json
            ? $"The frame is not valid JSON at line {json.LineNumber + 1}, byte {at + 1}: {Reason(json.Message)}"
            : "The frame is not valid JSON: " + exception.Message, exception);

    /// <summary>The reader's message without its position (said already) and its advice to the server's developer.</summary>
    private static string Reason(string message)
    {
        var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (position < 0 ? message : message[..position]).Replace(" Change the reader options.", "", StringComparison.Ordinal);
    }

    private static ProtocolException WrongType(JsonField field, string expected) =>
        new(ProtocolErrorKind.UnexpectedType, $"Field '{field.Name}' must be {expected}.");
}
