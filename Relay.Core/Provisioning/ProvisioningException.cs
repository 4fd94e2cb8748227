namespace Relay.Core.Provisioning;

/// <summary>No PostgreSQL could be provided; the message says what was tried and how to get one.</summary>
public sealed class ProvisioningException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProvisioningException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
