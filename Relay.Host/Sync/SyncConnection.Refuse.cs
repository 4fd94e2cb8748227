using System.Net.WebSockets;
using System.Text;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    /// <summary>
    /// A frame that could not be used: <c>BAD_REQUEST</c> as the answer to its ref when one could be read; a frame that
    /// cannot be decoded at all is also the end of the connection (1002).
    /// </summary>
    protected void Refuse(ProtocolException error)
    {
        LogBadRequest(error.Message);
        var envelope = error.ToEnvelope();
        if (error.IsFatal)
        {
            Push(envelope);
            Close(WebSocketCloseStatus.ProtocolError, "protocol error");
        }
        else
        {
            Reply(envelope);
        }
    }

    /// <summary>
    /// A request whose ref is over <see cref="ProtocolLimits.MaxRefBytes"/> is refused with <c>BAD_REQUEST</c>, sent as a
    /// push since the ref cannot be echoed (WS_MAPPING §2); true when it was.
    /// </summary>
    protected bool RefusedForLongRef(string? @ref)
    {
        if (@ref is null || @ref.Length * 3 <= ProtocolLimits.MaxRefBytes || Encoding.UTF8.GetByteCount(@ref) <= ProtocolLimits.MaxRefBytes)
        {
            return false;
        }
        var message = $"a ref is at most {ProtocolLimits.MaxRefBytes} bytes of UTF-8; this one is {Encoding.UTF8.GetByteCount(@ref)}";
        LogBadRequest(message);
        Push(Errors.Create(ErrorCode.BadRequest, message));
        return true;
    }

    /// <summary>
    /// Logs a request answered <c>BAD_REQUEST</c>: the first of this connection, then at most one line per
    /// <see cref="RefusalLog.Window"/> with how many more there were since the last (and, when it ends, how many went
    /// unlogged: <see cref="LogUnreportedBadRequests"/>), so that a client sending nothing but bad requests
    /// costs a line every 10 s, not one per frame. Says whose connection it is, and escapes control characters of the
    /// client's text, so that it cannot start a log line of its own. Called from the receive loop only.
    /// </summary>
    protected void LogBadRequest(string message)
    {
        var now = Environment.TickCount64;
        if (_badRequestLoggedAt is { } loggedAt && now - loggedAt < (long)RefusalLog.Window.TotalMilliseconds)
        {
            _badRequestsSince++;
            return;
        }
        Log.BadRequest(Context.Logger, ClientName, Printable(message), _badRequestsSince);
        _badRequestLoggedAt = now;
        _badRequestsSince = 0;
    }

    /// <summary>Says how many bad requests went unlogged since the last line, if any, once the connection has ended.</summary>
    private void LogUnreportedBadRequests()
    {
        if (_badRequestsSince > 0)
        {
            Log.BadRequestsUnreported(Context.Logger, ClientName, _badRequestsSince);
        }
    }

    /// <summary>Whose connection this is, for the log: the token's subject and organisation, printable, and which connection.</summary>
    private string ClientName =>
        (Identity is { } identity ? Printable($"subject {identity.Subject} of {identity.OrgId}") : "a Phoenix client not joined yet") + $" ({_activity.Name})";

    /// <summary><paramref name="text"/> with its control characters (line breaks among them) escaped as in JSON.</summary>
    private static string Printable(string text)
    {
        if (!text.Any(IsControl))
        {
            return text;
        }
        var printable = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\n' => printable.Append("\\n"),
                '\r' => printable.Append("\\r"),
                '\t' => printable.Append("\\t"),
                _ when IsControl(c) => printable.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => printable.Append(c),
            };
        }
        return printable.ToString();
    }

    private static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
