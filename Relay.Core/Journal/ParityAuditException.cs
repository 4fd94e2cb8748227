namespace Relay.Core.Journal;

/// <summary>A comparison <see cref="ParityAudit"/> cannot make; the message says why and what to do.</summary>
public sealed class ParityAuditException(string message) : Exception(message);
