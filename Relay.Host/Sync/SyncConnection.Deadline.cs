using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Host.Sync;

internal abstract partial class SyncConnection
{
    /// <summary>Points the deadline timer at the token in force: its expiry plus the clock skew it was accepted with.</summary>
    private void ArmDeadline()
    {
        if (Identity is not { } identity)
        {
            return;
        }
        var left = identity.Deadline - DateTimeOffset.UtcNow;
        _deadline.Change(left < TimeSpan.Zero ? TimeSpan.Zero : left < s_longestTimer ? left : s_longestTimer, Timeout.InfiniteTimeSpan);
    }

    /// <summary>At the token's deadline (unless refreshed in time): <c>UNAUTHORIZED</c>, then close 1008.</summary>
    private void OnDeadline()
    {
        if (Identity is { } identity && identity.Deadline > DateTimeOffset.UtcNow)
        {
            // Refreshed meanwhile, or a deadline further than one timer reaches.
            ArmDeadline();
            return;
        }
        Log.TokenExpired(Context.Logger);
        Push(Errors.Create(ErrorCode.Unauthorized, "the token expired; reconnect with a fresh one"));
        Close(WebSocketCloseStatus.PolicyViolation, "token expired");
    }
}
