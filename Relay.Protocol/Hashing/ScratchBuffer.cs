using System.Buffers;

namespace Relay.Protocol.Hashing;

/// <summary>
/// Pooled working memory for one canonicalization: the bytes written so far, which objects
/// rearrange in place once their members are sorted, and a stack of the members of the objects
/// being read. Return it with <see cref="Dispose"/>.
/// </summary>
internal sealed class ScratchBuffer : IDisposable
{
    private byte[] _bytes;
    private Member[] _members;

    public ScratchBuffer(int sizeHint)
    {
        _bytes = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, 256));
        _members = ArrayPool<Member>.Shared.Rent(16);
    }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

    /// <summary>The backing array; valid until the next write that grows the buffer.</summary>
    public byte[] Bytes => _bytes;

    public int Length { get; private set; }

    public int MemberCount { get; private set; }

    public void Append(byte b)
    {
        GetSpan(1)[0] = b;
        Length++;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    /// <summary>Room for at least <paramref name="size"/> bytes after <see cref="Length"/>; may move the array.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_bytes.Length - Length < size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_bytes.Length * 2, Length + size));
            Written.CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = larger;
        }

        return _bytes.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;

    /// <summary>Moves the bytes from <paramref name="from"/> on down to <paramref name="to"/>, dropping those between.</summary>
    public void MoveDown(int from, int to)
    {
        _bytes.AsSpan(from, Length - from).CopyTo(_bytes.AsSpan(to));
        Length -= from - to;
    }

    public void PushMember(Member member)
    {
        if (MemberCount == _members.Length)
        {
            var larger = ArrayPool<Member>.Shared.Rent(_members.Length * 2);
            _members.AsSpan().CopyTo(larger);
            ArrayPool<Member>.Shared.Return(_members);
            _members = larger;
        }

        _members[MemberCount++] = member;
    }

    public Span<Member> MembersFrom(int first) => _members.AsSpan(first, MemberCount - first);

    public void PopMembers(int first) => MemberCount = first;

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<Member>.Shared.Return(_members);
    }
}
