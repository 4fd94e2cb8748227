using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql.Replication;

namespace Relay.Bench.E2E;

/// <summary>
/// The feed's baseline: a bare pgoutput consumer of the journal as a process of its own (<see
/// cref="PostgresBaseline.StreamAsync"/>: Npgsql's replication stream, the relay's journal decoder, the position
/// confirmed at each commit, nothing else). Its CPU per event is what following the journal costs this runtime and
/// this machine before the relay does anything with an event. <c>/readyz</c> answers once it streams.
/// </summary>
internal static class RawConsumer
{
    public const string Command = "raw-consumer";

    public static async Task RunAsync(int port, string connectionString)
    {
        await using var connection = new LogicalReplicationConnection(connectionString);
        await connection.Open();
        var streaming = await PostgresBaseline.StreamAsync(connection, (_, _) => { }, CancellationToken.None);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/readyz", () => streaming.IsCompleted ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable) : Results.Ok());
        await Task.WhenAny(app.RunAsync(), streaming);
        await streaming;
    }
}
