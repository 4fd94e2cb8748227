namespace Relay.Core.Auth;

/// <summary><c>Relay:Auth</c> or a key file is invalid; the message lists every problem found.</summary>
public sealed class AuthConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuthConfigurationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public AuthConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AuthConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception from a list of problems.</summary>
    public AuthConfigurationException(IEnumerable<string> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
    }
}
