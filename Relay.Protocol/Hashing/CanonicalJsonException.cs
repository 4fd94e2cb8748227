namespace Relay.Protocol.Hashing;

/// <summary>
/// The input cannot be canonicalized per RFC 8785: it is not valid UTF-8 or not valid JSON, it
/// holds a lone surrogate, it nests deeper than <see cref="CanonicalJson.MaxDepth"/>, or a number
/// lies beyond the range of an IEEE double (JSON.stringify would print <c>Infinity</c>). The SQL
/// functions refuse the same numbers with SQLSTATE <c>RL002</c>.
/// </summary>
public sealed class CanonicalJsonException : FormatException
{
    /// <summary>Creates the exception with a message saying what is wrong with the input.</summary>
    /// <param name="message">What is wrong with the input.</param>
    public CanonicalJsonException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the parser's error that caused it.</summary>
    /// <param name="message">What is wrong with the input.</param>
    /// <param name="innerException">The error reported by the JSON reader.</param>
    public CanonicalJsonException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
