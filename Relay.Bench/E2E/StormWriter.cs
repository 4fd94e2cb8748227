using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>The storm's writer: run summaries published through <c>relay.publish_batch</c>, as an application would.</summary>
internal static class StormWriter
{
    /// <summary>Publishes <paramref name="count"/> documents to <paramref name="topic"/> in one batch.</summary>
    public static async Task PublishAsync(NpgsqlDataSource dataSource, string topic, int iteration, int count, CancellationToken cancellationToken)
    {
        var docs = string.Join(',', Enumerable.Range(0, count).Select(d =>
            $$"""{"doc_key":"{{topic}}:{{d}}","payload":{{Documents.RunSummary(d, iteration)}}}"""));
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM relay.publish_batch($1, $2::jsonb)");
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue("[" + docs + "]");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Publishes one document every 50 ms, to each topic in turn, until cancelled.</summary>
    public static async Task RunAsync(NpgsqlDataSource dataSource, string[] topics, CancellationToken cancellationToken)
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            for (var i = 0; await ticks.WaitForNextTickAsync(cancellationToken); i++)
            {
                await PublishAsync(dataSource, topics[i % topics.Length], i, 1, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The storm is over.
        }
    }
}
