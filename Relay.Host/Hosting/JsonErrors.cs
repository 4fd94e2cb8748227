using Npgsql;
using Relay.Core.Diagnostics;
using Relay.Protocol;
using Relay.Protocol.Hydration;

namespace Relay.Host.Hosting;

/// <summary>
/// Every HTTP error carries a JSON body, <c>{"error":"CODE","message":"…"}</c>, as the hydration endpoints' do: a
/// parameter that does not bind (<c>limit=abc</c>) says which, and a status set without a body gets one.
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
                Log.DatabaseUnavailable(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonErrors)),
                    http.Request.Path, e.Message);
                http.Response.Clear();
                http.Response.Headers.RetryAfter = "1";
                await WriteAsync(http, StatusCodes.Status503ServiceUnavailable, "the database is unavailable; retry shortly");
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

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Host + 31, LogLevel.Warning, "Answered {Path} with 503: the database is unavailable ({Reason})")]
        public static partial void DatabaseUnavailable(ILogger logger, string path, string reason);
    }
}
