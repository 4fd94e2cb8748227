using Npgsql;
using Relay.Core.Feeds;

namespace Relay.Host.Hosting;

/// <summary>Answers <c>/readyz</c>: is the database reachable right now, and is the feed streaming.</summary>
internal sealed class Readiness(NpgsqlDataSource dataSource, JournalFeed feed)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    /// <summary>Null when ready, otherwise the reason it is not.</summary>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_timeout);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return feed.Status.Problem is { } problem ? $"{feed.Name} feed not streaming: {problem}" : null;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return "database unreachable: " + e.Message;
        }
    }
}
