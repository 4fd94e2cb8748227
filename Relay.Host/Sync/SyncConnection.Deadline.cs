using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    /// <summary>
    /// Points the deadline timer at the token in force: its expiry plus the clock skew it was accepted with. A connection
    /// without one yet (a Phoenix socket before its join) has <see cref="SyncOptions.JoinTimeout"/> from its start.
    /// </summary>
    private void ArmDeadline()
    {
        var left = Identity is { } identity ? identity.Deadline - DateTimeOffset.UtcNow : _joinDeadline - DateTimeOffset.UtcNow;
        _deadline.Change(left < TimeSpan.Zero ? TimeSpan.Zero : left < s_longestTimer ? left : s_longestTimer, Timeout.InfiniteTimeSpan);
    }

    /// <summary>At the token's deadline (unless refreshed in time), or with no token by the join's: <c>UNAUTHORIZED</c>, then close 1008.</summary>
    private void OnDeadline()
    {
        var identity = Identity;
        if ((identity?.Deadline ?? _joinDeadline) > DateTimeOffset.UtcNow)
        {
            // Refreshed or joined meanwhile, or a deadline further than one timer reaches.
            ArmDeadline();
            return;
        }
        if (identity is null)
        {
            Log.NoTokenInTime(Context.Logger);
            Push(Errors.Create(ErrorCode.Unauthorized, "no token in time: join sync:v1 with one, or pass it in the socket params"));
            Close(WebSocketCloseStatus.PolicyViolation, "no token");
            return;
        }
        Log.TokenExpired(Context.Logger, ClientName);
        // What is still queued for the expired token is not sent: a client far behind (a slow link) reads the error and
        // the close next, instead of losing them to the close handshake's timeout behind a megabyte of updates. Under
        // the gate that pumps and heartbeats queue under, so that no batch or heartbeat comes after a dropped batch (a
        // client would store a watermark past updates it never got).
        lock (_pumpsGate)
        {
            _queue.DropQueued();
            Push(Errors.Create(ErrorCode.Unauthorized, "the token expired; reconnect with a fresh one"));
            Close(WebSocketCloseStatus.PolicyViolation, "token expired");
        }
    }
}
