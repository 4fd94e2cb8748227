using System.Threading.Tasks.Sources;

namespace Relay.Core.Topics;

/// <summary>
/// One reader's wait for its topic log to change, reused from wait to wait so that waiting allocates nothing (a
/// cancellable wait on a shared task allocated a promise, a registration and a state machine every time: about half of
/// what the relay allocated per delivery). Each wait ends exactly once: the log wakes it, or the reader's cancellation
/// token ends it with <see cref="OperationCanceledException"/>, whichever comes first. One reader, one wait at a time.
/// </summary>
internal sealed class TopicWaiter : IValueTaskSource, IDisposable
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Ended = 2;

    private readonly TopicLog _log;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state = Idle;

    internal TopicWaiter(TopicLog log, CancellationToken cancellationToken)
    {
        _log = log;
        _cancellationToken = cancellationToken;
        _registration = cancellationToken.UnsafeRegister(static waiter => ((TopicWaiter)waiter!).Cancel(), this);
    }

    /// <summary>Starts a wait; the log calls it under its gate, just before it records this waiter as waiting.</summary>
    internal ValueTask StartAsync()
    {
        _core.Reset();
        Interlocked.Exchange(ref _state, Waiting);
        return new ValueTask(this, _core.Version);
    }

    /// <summary>
    /// Ends the wait at once if the token was cancelled before it started: the token's callback, having found no wait to
    /// end, would not come again. Called after <see cref="StartAsync"/>, outside the log's gate.
    /// </summary>
    internal void CancelIfRequested()
    {
        if (_cancellationToken.IsCancellationRequested)
        {
            Cancel();
        }
    }

    /// <summary>Ends the wait because the log changed; does nothing when it already ended.</summary>
    internal void Wake()
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Waiting) == Waiting)
        {
            _core.SetResult(true);
        }
    }

    private void Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Waiting) == Waiting)
        {
            _log.Forget(this);
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
    }

    /// <summary>Stops listening to the token.</summary>
    public void Dispose() => _registration.Dispose();

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
