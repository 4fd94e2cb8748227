using System.Security.Cryptography;

namespace Relay.Protocol.Hashing;

/// <summary>
/// The <c>payload_hash</c> of a document: SHA-256 of the UTF-8 bytes of its RFC 8785 canonical
/// JSON (<see cref="CanonicalJson"/>). Equal to what the SQL function <c>relay.payload_hash</c>
/// stores for the same payload.
/// </summary>
public static class PayloadHash
{
    /// <summary>The size of a payload hash: 32 bytes.</summary>
    public const int Length = SHA256.HashSizeInBytes;

    /// <summary>
    /// The hash of a document read from the database: the stored one where the row has it (written before the hash left
    /// PostgreSQL's write path), computed from <paramref name="utf8Json"/> where it does not; null without a payload.
    /// </summary>
    /// <param name="stored">The row's <c>payload_hash</c>, or null.</param>
    /// <param name="utf8Json">The row's payload as UTF-8 JSON, or null (a tombstone, or a pointer-mode journal row).</param>
    /// <exception cref="CanonicalJsonException">The payload cannot be canonicalized.</exception>
    public static byte[]? OfStored(byte[]? stored, byte[]? utf8Json) => stored ?? (utf8Json is null ? null : Compute(utf8Json));

    /// <summary>Computes the payload hash of a JSON text.</summary>
    /// <param name="utf8Json">One JSON value, UTF-8 encoded, without a byte order mark.</param>
    /// <returns>The 32-byte hash.</returns>
    /// <exception cref="CanonicalJsonException">The input cannot be canonicalized.</exception>
    public static byte[] Compute(ReadOnlySpan<byte> utf8Json)
    {
        var hash = new byte[Length];
        Compute(utf8Json, hash);
        return hash;
    }

    /// <summary>Computes the payload hash of a JSON text into <paramref name="destination"/>, allocating nothing but pooled memory.</summary>
    /// <param name="utf8Json">One JSON value, UTF-8 encoded, without a byte order mark.</param>
    /// <param name="destination">Receives the hash; at least <see cref="Length"/> bytes.</param>
    /// <returns>The number of bytes written: <see cref="Length"/>.</returns>
    /// <exception cref="CanonicalJsonException">The input cannot be canonicalized.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    public static int Compute(ReadOnlySpan<byte> utf8Json, Span<byte> destination)
    {
        using var scratch = CanonicalJson.Canonicalize(utf8Json, out var canonical);
        return SHA256.HashData(canonical, destination);
    }
}
