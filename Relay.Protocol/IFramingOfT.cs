namespace Relay.Protocol;

/// <summary>A framing and what it reads from a client: a <c>ClientEnvelope</c>, or a framing's own frame (Phoenix's).</summary>
/// <typeparam name="TRequest">A decoded client frame.</typeparam>
public interface IFraming<out TRequest> : IFraming
{
    /// <summary>Reads a frame sent by a client.</summary>
    /// <exception cref="ProtocolException">The frame is malformed or holds no known message; it names the request's ref when read.</exception>
    TRequest DecodeClient(ReadOnlySpan<byte> frame);
}
