using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// Samples the relay's PostgreSQL connections every 50 ms from a connection of its own: the backends of
/// <c>pg_stat_activity</c> (client backends and walsenders) whose <c>application_name</c> is <see cref="ApplicationName"/>,
/// which the scenario puts in the relay's connection string. Keeps the peak since the last <see cref="TakePeak"/>.
/// </summary>
internal sealed class StormConnections : IAsyncDisposable
{
    /// <summary>The application name the relay under test connects with.</summary>
    public const string ApplicationName = "khala-relay-storm";

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _peak;

    private StormConnections(NpgsqlDataSource dataSource) => _sampling = SampleAsync(dataSource, _stop.Token);

    public static StormConnections Start(NpgsqlDataSource dataSource) => new(dataSource);

    /// <summary>The relay's connection string: <paramref name="connectionString"/> with <see cref="ApplicationName"/>.</summary>
    public static string ForRelay(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ApplicationName }.ConnectionString;

    /// <summary>The most connections seen since the last call, and starts over.</summary>
    public int TakePeak() => Interlocked.Exchange(ref _peak, 0);

    private async Task SampleAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var count = new NpgsqlCommand(
            "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 AND backend_type IN ('client backend', 'walsender')", connection)
        {
            Parameters = { new() { Value = ApplicationName } },
        };
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await ticks.WaitForNextTickAsync(cancellationToken))
            {
                var now = (int)(await count.ExecuteScalarAsync(cancellationToken))!;
                int peak;
                do
                {
                    peak = Volatile.Read(ref _peak);
                }
                while (now > peak && Interlocked.CompareExchange(ref _peak, now, peak) != peak);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Sampling is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
