using OpenAgents.Sync.V1;

namespace Relay.Protocol;

/// <summary>
/// An inbound frame could not be decoded. The decoders throw nothing else on malformed input.
/// </summary>
/// <remarks>
/// The server answers with <see cref="ToEnvelope"/> (<c>BAD_REQUEST</c>, echoing <see cref="Ref"/> when it
/// was read) and, when <see cref="IsFatal"/>, then closes the connection with 1002 (protocol error).
/// </remarks>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">What is wrong.</param>
    /// <param name="message">Detail for the client and the logs.</param>
    /// <param name="innerException">The decoder's own exception, if any.</param>
    public ProtocolException(ProtocolErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>What is wrong with the frame.</summary>
    public ProtocolErrorKind Kind { get; }

    /// <summary>The request's ref, when it was read before the error; otherwise null.</summary>
    public string? Ref { get; internal set; }

    /// <summary>Phoenix framing only: the frame's join_ref, when it was read.</summary>
    public string? JoinRef { get; internal set; }

    /// <summary>Phoenix framing only: the frame's channel topic, when it was read.</summary>
    public string? Topic { get; internal set; }

    /// <summary>
    /// Whether the frame is undecodable as a whole, so the connection cannot go on: the server sends the
    /// error, then closes with 1002. Otherwise only the request is refused and the connection stays open.
    /// </summary>
    public bool IsFatal => Kind is ProtocolErrorKind.InvalidUtf8 or ProtocolErrorKind.InvalidProtobuf
        or ProtocolErrorKind.InvalidJson or ProtocolErrorKind.InvalidFrame;

    /// <summary>The <c>BAD_REQUEST</c> answer to the frame, addressed to <see cref="Ref"/> when known.</summary>
    public ServerEnvelope ToEnvelope() => new()
    {
        Ref = Ref ?? "",
        Error = new Error { Code = ErrorCode.BadRequest, Message = Message },
    };

    internal static string? NullIfEmpty(string value) => value.Length > 0 ? value : null;
}
