using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Relay.Protocol.Hashing;

/// <summary>
/// Canonical JSON per <see href="https://www.rfc-editor.org/rfc/rfc8785">RFC 8785</see> (JCS): no
/// whitespace, object members sorted by the UTF-16 code units of their keys, strings escaped as
/// JSON.stringify escapes them, numbers printed as JSON.stringify prints the nearest double. The
/// same text as the SQL function <c>relay.canonical_json</c>; both are tested against
/// <c>fixtures/jcs/cases.json</c>.
/// </summary>
/// <remarks>
/// A duplicate key keeps its last value, as JSON.parse and PostgreSQL's <c>jsonb</c> do.
/// </remarks>
public static partial class CanonicalJson
{
    /// <summary>The deepest nesting of arrays and objects accepted: 1000.</summary>
    public const int MaxDepth = 1000;

    /// <summary>Returns the canonical form of a JSON text.</summary>
    /// <param name="utf8Json">One JSON value, UTF-8 encoded, without a byte order mark.</param>
    /// <returns>The canonical text, UTF-8 encoded.</returns>
    /// <exception cref="CanonicalJsonException">The input cannot be canonicalized.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        using var scratch = Canonicalize(utf8Json, out var canonical);
        return canonical.ToArray();
    }

    /// <summary>Writes the canonical form of a JSON text to <paramref name="output"/>.</summary>
    /// <param name="utf8Json">One JSON value, UTF-8 encoded, without a byte order mark.</param>
    /// <param name="output">Receives the canonical text, UTF-8 encoded; nothing is written if the input is refused.</param>
    /// <exception cref="CanonicalJsonException">The input cannot be canonicalized.</exception>
    public static void Canonicalize(ReadOnlySpan<byte> utf8Json, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var scratch = Canonicalize(utf8Json, out var canonical);
        output.Write(canonical);
    }

    /// <summary>Canonicalizes into pooled memory; <paramref name="canonical"/> is valid until the result is disposed.</summary>
    internal static ScratchBuffer Canonicalize(ReadOnlySpan<byte> utf8Json, out ReadOnlySpan<byte> canonical)
    {
        if (!Utf8.IsValid(utf8Json))
        {
            throw new CanonicalJsonException("The input is not valid UTF-8.");
        }

        var scratch = new ScratchBuffer(utf8Json.Length + 16);
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });
            reader.Read();
            WriteValue(ref reader, scratch);

            // Throws unless only whitespace follows the value.
            reader.Read();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            scratch.Dispose();
            throw new CanonicalJsonException($"The input is not valid JSON: {e.Message}", e);
        }
        catch
        {
            scratch.Dispose();
            throw;
        }

        canonical = scratch.Written;
        return scratch;
    }

    private static void WriteValue(ref Utf8JsonReader reader, ScratchBuffer scratch)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, scratch);
                break;
            case JsonTokenType.StartArray:
                scratch.Append((byte)'[');
                var first = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (!first)
                    {
                        scratch.Append((byte)',');
                    }

                    first = false;
                    WriteValue(ref reader, scratch);
                }

                scratch.Append((byte)']');
                break;
            case JsonTokenType.String:
                WriteString(ref reader, scratch);
                break;
            case JsonTokenType.Number:
                WriteNumber(reader.ValueSpan, scratch);
                break;
            default:
                // true, false and null: the reader has checked the literal.
                scratch.Append(reader.ValueSpan);
                break;
        }
    }

    /// <summary>
    /// Writes the members in input order, each key unescaped and each value already canonical,
    /// then appends them again in canonical order, the last of equal keys only, and moves that
    /// down over the first copy.
    /// </summary>
    private static void WriteObject(ref Utf8JsonReader reader, ScratchBuffer scratch)
    {
        var start = scratch.Length;
        var firstMember = scratch.MemberCount;
        var index = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var keyStart = scratch.Length;
            AppendUnescaped(ref reader, scratch);
            var valueStart = scratch.Length;
            reader.Read();
            WriteValue(ref reader, scratch);
            scratch.PushMember(new Member(keyStart, valueStart - keyStart, valueStart, scratch.Length - valueStart, index++));
        }

        var members = scratch.MembersFrom(firstMember);
        var order = new MemberOrder(scratch.Bytes);
        order.Sort(members);
        var kept = 0;
        for (var i = 0; i < members.Length; i++)
        {
            if (i + 1 == members.Length || !order.SameKey(members[i], members[i + 1]))
            {
                members[kept++] = members[i];
            }
        }

        var output = scratch.Length;
        scratch.Append((byte)'{');
        for (var i = 0; i < kept; i++)
        {
            var member = members[i];
            if (i > 0)
            {
                scratch.Append((byte)',');
            }

            WriteEscaped(scratch, member.KeyStart, member.KeyLength);
            scratch.Append((byte)':');
            scratch.GetSpan(member.ValueLength);
            scratch.Append(scratch.Bytes.AsSpan(member.ValueStart, member.ValueLength));
        }

        scratch.Append((byte)'}');
        scratch.MoveDown(output, start);
        scratch.PopMembers(firstMember);
    }
}
