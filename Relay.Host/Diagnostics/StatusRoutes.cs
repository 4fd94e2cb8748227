using System.Reflection;
using Microsoft.Extensions.Options;
using Relay.Core.Feeds;
using Relay.Core.Journal;
using Relay.Core.Topics;
using Relay.Host.Sync;
using Relay.Protocol;
using Relay.Protocol.Hydration;

namespace Relay.Host.Diagnostics;

/// <summary>
/// The status page: <c>GET /</c> serves one embedded HTML file (its script and styles inline, no build step), which polls
/// <c>GET /status/v1</c> (topics, feed, connections and lag) and <c>GET /status/v1/recent/{topic}</c> (the latest
/// updates' metadata, without payloads). Mapped only when <see cref="StatusPageOptions.Enabled"/>.
/// </summary>
internal static class StatusRoutes
{
    private const int RecentCount = 20;

    public static void MapStatusPage(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<StatusPageOptions>>().Value.Enabled)
        {
            return;
        }
        var page = ReadPage();
        var routes = app.MapGroup("").AddEndpointFilter(AddressedDirectlyAsync);
        routes.MapGet("/", () => Results.Bytes(page, "text/html; charset=utf-8"));
        routes.MapGet("/status/v1", Status);
        routes.MapGet("/status/v1/recent/{topic}", RecentAsync);
    }

    /// <summary>
    /// Serves requests addressed to <c>localhost</c> or an IP address only. The page needs no token, so a web page on
    /// another site could otherwise read it through DNS rebinding (its own name made to resolve to this machine, which
    /// its requests then carry as <c>Host</c>).
    /// </summary>
    private static ValueTask<object?> AddressedDirectlyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var host = context.HttpContext.Request.Host.Host;
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(host, out _)
            ? next(context)
            : ValueTask.FromResult<object?>(Results.Text(
                $"The status page answers requests addressed to localhost or an IP address, not '{host}' (a page elsewhere could read it through DNS rebinding).\n",
                statusCode: StatusCodes.Status403Forbidden));
    }

    private static IResult Status(DatabaseGauges database, SyncGauges sync, SyncConnections connections, TopicLogs logs, JournalFeed feed)
    {
        var lags = sync.Lags();
        var topics = database.Snapshot.Topics.OrderBy(t => t.Topic, StringComparer.Ordinal).Select(t =>
        {
            var lag = lags.GetValueOrDefault(t.Topic) ?? [];
            return new
            {
                topic = t.Topic,
                head = t.Head,
                logHead = logs.Find(t.Topic)?.Head ?? 0,
                retainedAfter = t.RetainedAfter,
                journalRows = t.Head - t.RetainedAfter,
                journalBytes = (long)t.Bytes,
                subscribers = lag.Length,
                lagMax = lag.Length == 0 ? 0 : lag[^1],
                lagP95 = lag.Length == 0 ? 0 : SyncGauges.Percentile95(lag),
            };
        });
        return Results.Json(new
        {
            at = DateTimeOffset.UtcNow,
            feed = new { name = feed.Name, streaming = feed.Status.Streaming, problem = feed.Status.Problem, lagSeconds = database.FeedLagSeconds() },
            connections = connections.Count,
            delivered = logs.All.Sum(log => log.Head),
            topics,
        });
    }

    private static async Task<IResult> RecentAsync(string topic, TopicLogs logs, JournalReader journal, CancellationToken cancellationToken)
    {
        if (logs.Find(topic) is not { } log)
        {
            return Results.Json(new HttpError(HttpErrorCodes.UnknownTopic, $"no topic {topic} on this relay"), HydrationJsonContext.Default.HttpError, statusCode: StatusCodes.Status404NotFound);
        }
        var head = log.Head;
        var events = await journal.ReadAsync(topic, Math.Max(0, head - RecentCount), head, RecentCount, 1024 * 1024, cancellationToken);
        return Results.Json(events.AsEnumerable().Reverse().Select(e => new
        {
            watermark = e.Watermark,
            docKey = e.DocKey,
            docVersion = e.DocVersion,
            tombstone = e.Tombstone,
            committedAt = e.CommittedAt,
        }));
    }

    private static byte[] ReadPage()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("status.html")
            ?? throw new InvalidOperationException("status.html is not embedded in the relay");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
