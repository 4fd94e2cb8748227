namespace Relay.Client;

/// <summary>
/// A document arrived whose payload does not hash to its <c>payload_hash</c> (SHA-256 of the canonical JSON): it was
/// damaged on the way or in the relay. The client applies nothing of the batch from that document on, stores no
/// watermark for it, and reconnects to read it again.
/// </summary>
public sealed class PayloadHashMismatchException : Exception
{
    /// <summary>Creates the exception for <paramref name="docKey"/> at <paramref name="docVersion"/> of <paramref name="topic"/>.</summary>
    public PayloadHashMismatchException(string topic, string docKey, long docVersion)
        : base($"the payload of {docKey} version {docVersion} in {topic} does not match its payload_hash")
    {
        Topic = topic;
        DocKey = docKey;
        DocVersion = docVersion;
    }

    /// <summary>The document's topic.</summary>
    public string Topic { get; }

    /// <summary>The document's key.</summary>
    public string DocKey { get; }

    /// <summary>The version that arrived damaged.</summary>
    public long DocVersion { get; }
}
