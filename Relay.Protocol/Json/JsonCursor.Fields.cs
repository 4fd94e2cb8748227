using System.Buffers.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Relay.Protocol.Json;

internal ref partial struct JsonCursor
{
    /// <summary>Moves into an object-valued field; false when the value is null (the field is unset).</summary>
    public bool StartObject(JsonField field)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.StartObject => true,
            JsonTokenType.Null => false,
            _ => throw WrongType(field, "an object"),
        };
    }

    /// <summary>Moves into a member of an envelope's oneof; false when null.</summary>
    public bool StartOneof(JsonField field, bool anotherIsSet)
    {
        if (!StartObject(field))
        {
            return false;
        }

        return anotherIsSet
            ? throw new ProtocolException(ProtocolErrorKind.MultipleMessages, "The envelope holds more than one message.")
            : true;
    }

    /// <summary>Moves into an array-valued field; false when null.</summary>
    public bool StartArray(JsonField field)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.StartArray => true,
            JsonTokenType.Null => false,
            _ => throw WrongType(field, "an array"),
        };
    }

    /// <summary>Checks that the current array element is an object.</summary>
    public readonly void ExpectObjectElement(JsonField field)
    {
        if (_reader.TokenType != JsonTokenType.StartObject)
        {
            throw WrongType(field, "an array of objects");
        }
    }

    public string String(JsonField field)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.String => _reader.GetString()!,
            JsonTokenType.Null => "",
            _ => throw WrongType(field, "a string"),
        };
    }

    public bool Bool(JsonField field)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False or JsonTokenType.Null => false,
            _ => throw WrongType(field, "true or false"),
        };
    }

    /// <summary>An int64 given as a JSON number or, as proto3 JSON allows, a decimal string.</summary>
    public long Int64(JsonField field)
    {
        Read();
        return Int64Value(field);
    }

    public uint UInt32(JsonField field)
    {
        var value = Int64(field);
        return value is >= 0 and <= uint.MaxValue ? (uint)value : throw WrongType(field, "an unsigned 32-bit integer");
    }

    /// <summary>An enum given by value name or number; an unknown name reads as 0.</summary>
    public int Enum(JsonField field, JsonEnum names)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.String => names.NumberOf(_reader.GetString()!),
            JsonTokenType.Number when _reader.TryGetInt32(out var number) => number,
            JsonTokenType.Null => 0,
            _ => throw WrongType(field, "an enum value name"),
        };
    }

    /// <summary>Bytes given as standard base64.</summary>
    public ByteString Base64(JsonField field)
    {
        Read();
        return _reader.TokenType switch
        {
            JsonTokenType.String when _reader.TryGetBytesFromBase64(out var bytes) => ByteString.CopyFrom(bytes),
            JsonTokenType.Null => ByteString.Empty,
            _ => throw WrongType(field, "a base64 string"),
        };
    }

    /// <summary>Any JSON value, taken verbatim: the bytes of its text as they appear in the frame.</summary>
    public ByteString RawValue()
    {
        Read();
        var start = checked((int)_reader.TokenStartIndex);
        _reader.Skip();
        return ByteString.CopyFrom(_text[start..checked((int)_reader.BytesConsumed)]);
    }

    public void Strings(JsonField field, RepeatedField<string> target)
    {
        if (!StartArray(field))
        {
            return;
        }

        while (NextElement())
        {
            target.Add(_reader.TokenType == JsonTokenType.String
                ? _reader.GetString()!
                : throw WrongType(field, "an array of strings"));
        }
    }

    public void Int64Map(JsonField field, MapField<string, long> target)
    {
        if (!StartObject(field))
        {
            return;
        }

        while (NextProperty())
        {
            var key = _reader.GetString()!;
            Read();
            target[key] = Int64Value(field);
        }
    }

    public void StringMap(JsonField field, MapField<string, string> target)
    {
        if (!StartObject(field))
        {
            return;
        }

        while (NextProperty())
        {
            var key = _reader.GetString()!;
            Read();
            target[key] = _reader.TokenType switch
            {
                JsonTokenType.String => _reader.GetString()!,
                JsonTokenType.Null => "",
                _ => throw WrongType(field, "a string"),
            };
        }
    }

    private readonly long Int64Value(JsonField field)
    {
        switch (_reader.TokenType)
        {
            case JsonTokenType.Number when _reader.TryGetInt64(out var number):
                return number;
            case JsonTokenType.String when !_reader.ValueIsEscaped
                && Utf8Parser.TryParse(_reader.ValueSpan, out long parsed, out var consumed)
                && consumed == _reader.ValueSpan.Length:
                return parsed;
            case JsonTokenType.Null:
                return 0;
            default:
                throw WrongType(field, "an integer");
        }
    }
}
