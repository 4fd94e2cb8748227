using System.Globalization;
using System.Text;

namespace Relay.Protocol.Hashing;

/// <summary>Numbers as ECMAScript's Number::toString prints them (RFC 8785 section 3.2.2.3).</summary>
public static partial class CanonicalJson
{
    private static void WriteNumber(ReadOnlySpan<byte> literal, ScratchBuffer scratch)
    {
        // Correctly rounded to the nearest double; beyond the range the result is infinite.
        var value = double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            var shown = Encoding.UTF8.GetString(literal[..Math.Min(literal.Length, 40)]) + (literal.Length > 40 ? "..." : "");
            throw new CanonicalJsonException(
                $"Number out of range for canonical JSON: {shown} is beyond the largest IEEE double; JSON.stringify would print Infinity, which is not JSON.");
        }

        if (value == 0)
        {
            // Also minus zero.
            scratch.Append((byte)'0');
            return;
        }

        if (value < 0)
        {
            scratch.Append((byte)'-');
            value = -value;
        }

        // "R" gives the shortest digits that round-trip, closest to the value: the digits
        // ECMAScript picks. Only their layout differs, e.g. 1E+21 or 1E-07.
        Span<byte> shortest = stackalloc byte[32];
        value.TryFormat(shortest, out var length, "R", CultureInfo.InvariantCulture);
        Span<byte> digits = stackalloc byte[17];
        var count = SplitDigits(shortest[..length], digits, out var pointPosition);
        WriteEcmaScript(digits[..count], pointPosition, scratch);
    }

    /// <summary>
    /// Splits .NET's shortest form into significant digits d1..dk and n such that the value is
    /// 0.d1..dk × 10^n, the terms ECMA-262 Number::toString is written in.
    /// </summary>
    private static int SplitDigits(ReadOnlySpan<byte> formatted, Span<byte> digits, out int pointPosition)
    {
        var exponentAt = formatted.IndexOf((byte)'E');
        var mantissa = exponentAt < 0 ? formatted : formatted[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(formatted[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf((byte)'.');
        pointPosition = (point < 0 ? mantissa.Length : point) + exponent;
        var count = 0;
        foreach (var c in mantissa)
        {
            if (c == '.')
            {
                continue;
            }

            if (count == 0 && c == '0')
            {
                pointPosition--;
                continue;
            }

            digits[count++] = c;
        }

        while (digits[count - 1] == '0')
        {
            count--;
        }

        return count;
    }

    private static void WriteEcmaScript(ReadOnlySpan<byte> digits, int n, ScratchBuffer scratch)
    {
        var k = digits.Length;
        if (k <= n && n <= 21)
        {
            scratch.Append(digits);
            scratch.GetSpan(n - k)[..(n - k)].Fill((byte)'0');
            scratch.Advance(n - k);
        }
        else if (0 < n && n <= 21)
        {
            scratch.Append(digits[..n]);
            scratch.Append((byte)'.');
            scratch.Append(digits[n..]);
        }
        else if (-6 < n && n <= 0)
        {
            scratch.Append("0."u8);
            scratch.GetSpan(-n)[..(-n)].Fill((byte)'0');
            scratch.Advance(-n);
            scratch.Append(digits);
        }
        else
        {
            scratch.Append(digits[0]);
            if (k > 1)
            {
                scratch.Append((byte)'.');
                scratch.Append(digits[1..]);
            }

            scratch.Append(n - 1 >= 0 ? "e+"u8 : "e-"u8);
            Span<byte> exponent = stackalloc byte[4];
            Math.Abs(n - 1).TryFormat(exponent, out var written, provider: CultureInfo.InvariantCulture);
            scratch.Append(exponent[..written]);
        }
    }
}
