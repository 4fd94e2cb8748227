namespace Relay.Bench.Chaos;

internal sealed partial class ChaosClient
{
    /// <summary>Joins, churns until <paramref name="settle"/> is cancelled, then stays connected where it is.</summary>
    public async Task RunAsync(CancellationToken settle)
    {
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            await JoinAsync(random.Next(nodes.Count));
        }
        finally
        {
            _turn.Release();
        }
        while (!settle.IsCancellationRequested)
        {
            bool failed;
            try
            {
                failed = await _failed.WaitAsync(TimeSpan.FromMilliseconds(random.Next(2000, 9000)), settle);
            }
            catch (OperationCanceledException) when (settle.IsCancellationRequested)
            {
                break;
            }
            await _turn.WaitAsync(CancellationToken.None);
            try
            {
                await ChurnAsync(failed);
            }
            finally
            {
                _turn.Release();
            }
        }
    }

    /// <summary>
    /// Leaves now and comes back on the next node once <paramref name="back"/> completes: the retention fault prunes the
    /// journal meanwhile, so the client resumes from a stale cursor and must re-hydrate. Returns false, doing nothing,
    /// for a client that has not joined yet.
    /// </summary>
    public async Task<bool> AwayAsync(Task back)
    {
        await _turn.WaitAsync();
        try
        {
            if (_client is null)
            {
                return false;
            }
            await LeaveAsync();
            await back;
            // Not from the shared Random: the churn loop may be drawing from it right now.
            await JoinAsync((_node + 1) % nodes.Count);
            return true;
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task ChurnAsync(bool failed)
    {
        switch (failed ? 1 : random.Next(4))
        {
            case 0:
                Drops++;
                _client!.AbortConnection();
                // The drop's own failure: the client resumes on the same node by itself.
                await Task.Delay(500, CancellationToken.None);
                await DrainFailuresAsync();
                break;
            case 1 or 2:
                Moves++;
                await LeaveAsync();
                await JoinAsync(OtherNode());
                break;
            default:
                await LeaveAsync();
                await Task.Delay(random.Next(1000, 8000), CancellationToken.None);
                await JoinAsync(random.Next(nodes.Count));
                break;
        }
    }
}
