namespace Relay.Protocol.Hashing;

/// <summary>
/// Orders members by the UTF-16 code units of their keys (RFC 8785 section 3.2.3), comparing the
/// UTF-8 bytes directly, then by position in the input so that duplicates end up last-wins.
/// </summary>
/// <remarks>
/// UTF-8 byte order is code point order, which differs from UTF-16 order only between
/// U+E000..U+FFFF (lead bytes EE and EF) and supplementary characters (lead bytes F0..F4, which
/// UTF-16 encodes as surrogates D800..DFFF and so sorts lower). Two keys first differ either in
/// a lead byte or, after equal lead bytes, in a continuation byte of the same kind of character;
/// lifting EE and EF above F4 at that byte is therefore enough.
/// </remarks>
internal readonly struct MemberOrder(byte[] buffer) : IComparer<Member>
{
    private readonly byte[] _buffer = buffer;

    public int Compare(Member x, Member y)
    {
        var order = CompareKeys(Key(x), Key(y));
        return order != 0 ? order : x.Index.CompareTo(y.Index);
    }

    public bool SameKey(Member x, Member y) => Key(x).SequenceEqual(Key(y));

    /// <summary>Sorts in place; small objects, nearly all of them, without allocating.</summary>
    public void Sort(Span<Member> members)
    {
        if (members.Length > 32)
        {
            members.Sort(this);
            return;
        }

        for (var i = 1; i < members.Length; i++)
        {
            var member = members[i];
            var j = i - 1;
            for (; j >= 0 && Compare(members[j], member) > 0; j--)
            {
                members[j + 1] = members[j];
            }

            members[j + 1] = member;
        }
    }

    private ReadOnlySpan<byte> Key(Member member) => _buffer.AsSpan(member.KeyStart, member.KeyLength);

    private static int CompareKeys(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var common = x.CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
        {
            return x.Length.CompareTo(y.Length);
        }

        return Utf16Weight(x[common]).CompareTo(Utf16Weight(y[common]));
    }

    private static int Utf16Weight(byte b) => b is 0xEE or 0xEF ? b + 0x10 : b;
}
