namespace Relay.Protocol;

/// <summary>Every HTTP error body of the relay: <c>{"error":"CODE","message":"…"}</c>.</summary>
/// <param name="Error">One of <see cref="HttpErrorCodes"/>, or <c>HTTP_&lt;status&gt;</c> where none applies.</param>
/// <param name="Message">What went wrong, for a person.</param>
public sealed record HttpError(string Error, string Message);
