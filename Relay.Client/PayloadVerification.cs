using System.Security.Cryptography;
using Relay.Protocol.Hashing;

namespace Relay.Client;

/// <summary>Checks a received document against its <c>payload_hash</c> with the relay's own canonical hasher.</summary>
internal static class PayloadVerification
{
    /// <summary>Throws unless <paramref name="document"/> is a tombstone, carries no hash, or hashes to its hash.</summary>
    /// <exception cref="PayloadHashMismatchException">The payload does not hash to <see cref="CachedDocument.PayloadHash"/>.</exception>
    public static void Verify(string topic, CachedDocument document)
    {
        if (document.Deleted || document.PayloadHash.IsEmpty)
        {
            return;
        }
        Span<byte> hash = stackalloc byte[PayloadHash.Length];
        try
        {
            PayloadHash.Compute(document.Payload.Span, hash);
        }
        catch (CanonicalJsonException)
        {
            throw new PayloadHashMismatchException(topic, document.DocKey, document.DocVersion);
        }
        if (!CryptographicOperations.FixedTimeEquals(hash, document.PayloadHash.Span))
        {
            throw new PayloadHashMismatchException(topic, document.DocKey, document.DocVersion);
        }
    }
}
