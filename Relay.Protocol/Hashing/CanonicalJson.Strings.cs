using System.Buffers;
using System.Text.Json;

namespace Relay.Protocol.Hashing;

/// <summary>String escaping as RFC 8785 section 3.2.2.2 (and JSON.stringify) does it.</summary>
public static partial class CanonicalJson
{
    private static readonly SearchValues<byte> _mustEscape = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\"u8);

    private static void WriteString(ref Utf8JsonReader reader, ScratchBuffer scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            // The reader refuses raw control characters, quotes and backslashes in a string, so
            // an unescaped string is canonical as it stands.
            scratch.Append((byte)'"');
            scratch.Append(reader.ValueSpan);
            scratch.Append((byte)'"');
            return;
        }

        var unescaped = scratch.Length;
        AppendUnescaped(ref reader, scratch);
        var length = scratch.Length - unescaped;
        WriteEscaped(scratch, unescaped, length);
        scratch.MoveDown(unescaped + length, unescaped);
    }

    /// <summary>Appends the token's string value, escapes resolved; throws on a lone surrogate.</summary>
    private static void AppendUnescaped(ref Utf8JsonReader reader, ScratchBuffer scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            scratch.Append(reader.ValueSpan);
            return;
        }

        // Unescaping never lengthens the text.
        var span = scratch.GetSpan(reader.ValueSpan.Length);
        scratch.Advance(reader.CopyString(span));
    }

    /// <summary>Appends a quoted, escaped copy of bytes already in the buffer.</summary>
    private static void WriteEscaped(ScratchBuffer scratch, int start, int length)
    {
        // Room for the worst case up front, so the source stays where it is while we copy.
        var destination = scratch.GetSpan((length * 6) + 2);
        var source = scratch.Bytes.AsSpan(start, length);
        var written = 0;
        destination[written++] = (byte)'"';
        while (!source.IsEmpty)
        {
            var plain = source.IndexOfAny(_mustEscape);
            if (plain < 0)
            {
                plain = source.Length;
            }

            source[..plain].CopyTo(destination[written..]);
            written += plain;
            if (plain == source.Length)
            {
                break;
            }

            written += WriteEscape(source[plain], destination[written..]);
            source = source[(plain + 1)..];
        }

        destination[written++] = (byte)'"';
        scratch.Advance(written);
    }

    private static int WriteEscape(byte b, Span<byte> destination)
    {
        var shortForm = b switch
        {
            (byte)'"' => (byte)'"',
            (byte)'\\' => (byte)'\\',
            (byte)'\b' => (byte)'b',
            (byte)'\t' => (byte)'t',
            (byte)'\n' => (byte)'n',
            (byte)'\f' => (byte)'f',
            (byte)'\r' => (byte)'r',
            _ => (byte)0,
        };
        destination[0] = (byte)'\\';
        if (shortForm != 0)
        {
            destination[1] = shortForm;
            return 2;
        }

        "u00"u8.CopyTo(destination[1..]);
        destination[4] = HexDigit(b >> 4);
        destination[5] = HexDigit(b & 0xF);
        return 6;
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);
}
