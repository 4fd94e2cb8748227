using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Protocol;
using Relay.Protocol.Hydration;

namespace Relay.Host.Hosting;

/// <summary>
/// Every HTTP error carries a JSON body, <c>{"error":"CODE","message":"…"}</c>, as the hydration endpoints' do: a
/// parameter that does not bind (<c>limit=abc</c>) says which, a status set without a body gets one, and so does an
/// exception (500, logged: one line for a right the relay's role lacks, the stack trace for anything else).
/// </summary>
internal static partial class JsonErrors
{
    public static IServiceCollection AddJsonErrors(this IServiceCollection services) =>
        // Binding failures throw instead of answering an empty 400, so that the message can say what did not bind.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

    public static void UseJsonErrors(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                http.Response.Clear();
                await WriteAsync(http, e.StatusCode, e.Message);
            }
            catch (NpgsqlException e) when (e.IsTransient && !http.Response.HasStarted)
            {
                // The database is down or restarting: the client retries, as the WebSocket's UNAVAILABLE tells it to.
                Log.DatabaseUnavailable(Logger(http), http.Request.Path, e.Message);
                http.Response.Clear();
                http.Response.Headers.RetryAfter = "1";
                await WriteAsync(http, StatusCodes.Status503ServiceUnavailable, "the database is unavailable; retry shortly");
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && !http.Response.HasStarted)
            {
                // A right the relay's role lacks (most often SELECT on an attached table): the operator's to grant.
                Log.RightMissing(Logger(http), http.Request.Path, e.MessageText);
                http.Response.Clear();
                await WriteAsync(http, StatusCodes.Status500InternalServerError, "the relay may not read what this request needs (a database right is missing; its log says which)");
            }
            catch (Exception e) when (e is not OperationCanceledException && !http.Response.HasStarted)
            {
                Log.Failed(Logger(http), http.Request.Path, e);
                http.Response.Clear();
                await WriteAsync(http, StatusCodes.Status500InternalServerError, "the request failed; the relay's log says why");
            }
        });
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, null));
    }

    /// <summary>Writes the error body with <paramref name="status"/>; the code is the protocol's name for it where there is one.</summary>
    public static Task WriteAsync(HttpContext http, int status, string? message)
    {
        var code = status switch
        {
            StatusCodes.Status400BadRequest => HttpErrorCodes.BadRequest,
            StatusCodes.Status401Unauthorized => HttpErrorCodes.Unauthorized,
            StatusCodes.Status404NotFound => HttpErrorCodes.NotFound,
            StatusCodes.Status405MethodNotAllowed => HttpErrorCodes.MethodNotAllowed,
            StatusCodes.Status503ServiceUnavailable => HttpErrorCodes.Unavailable,
            >= 500 => HttpErrorCodes.Internal,
            _ => $"HTTP_{status}",
        };
        http.Response.StatusCode = status;
        var error = new HttpError(code, message ?? $"HTTP {status} for {http.Request.Method} {http.Request.Path}");
        return http.Response.WriteAsJsonAsync(error, HydrationJsonContext.Default.HttpError, cancellationToken: http.RequestAborted);
    }

    private static ILogger Logger(HttpContext http) => http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonErrors));

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Host + 34, LogLevel.Warning,
            "Answered {Path} with 500: the relay's database role lacks a right ({Reason}); grant it (docs/deployment.md, Rights: SELECT on attached tables)")]
        public static partial void RightMissing(ILogger logger, string path, string reason);

        [LoggerMessage(RelayEventIds.Host + 35, LogLevel.Error, "Answered {Path} with 500")]
        public static partial void Failed(ILogger logger, string path, Exception exception);

        [LoggerMessage(RelayEventIds.Host + 31, LogLevel.Warning, "Answered {Path} with 503: the database is unavailable ({Reason})")]
        public static partial void DatabaseUnavailable(ILogger logger, string path, string reason);
    }
}
