using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using Relay.Core.Auth;
using Relay.Host.Auth;
using Relay.Host.Hosting;
using Relay.Protocol;
using Relay.Protocol.Hashing;
using Relay.Protocol.Hydration;

namespace Relay.Host.Hydration;

/// <summary>
/// HTTP hydration (CONTRACT §3): <c>GET /sync/v1/doc/{doc_key}</c> and <c>GET /sync/v1/list/{topic}?after=&amp;limit=</c>.
/// Payloads are inline JSON, as in the JSON framing. Another organisation's document is a 404, never a 403. The bodies
/// are the shared <see cref="HydrationJsonContext"/> types.
/// </summary>
internal static class HydrationRoutes
{
    /// <summary>The most documents one list page returns; a larger <c>limit</c> is capped to it.</summary>
    public const int MaxLimit = 500;

    /// <summary>The page size when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The content type of the bodies, as the relay has always sent it (no charset: JSON is UTF-8).</summary>
    private const string JsonContentType = "application/json";

    public static void MapHydration(this WebApplication app)
    {
        app.MapMethods("/sync/v1/doc/{docKey}", ReadMethods.GetOrHead, GetDocumentAsync);
        app.MapMethods("/sync/v1/list/{topic}", ReadMethods.GetOrHead, ListAsync);
    }

    private static async Task GetDocumentAsync(HttpContext http, string docKey, string? topic, TokenValidator tokens, NpgsqlDataSource dataSource)
    {
        NoStore(http);
        if (await AuthenticateAsync(http, tokens) is not { } principal || await RefusedForNulAsync(http, topic, "topic"))
        {
            return;
        }
        docKey = DocKeyAsSent(http, docKey);
        await using var command = dataSource.CreateCommand(topic is null
            ? "SELECT topic, doc_key, doc_version, org_id, payload::text, payload_hash, watermark FROM relay.documents WHERE doc_key = $1 AND NOT deleted"
            : "SELECT $2::text, doc_key, doc_version, org_id, payload::text, payload_hash, NULL::bigint FROM relay.read_documents($2, ARRAY[$1]) WHERE doc_version IS NOT NULL AND NOT deleted");
        command.Parameters.AddWithValue(docKey);
        if (topic is not null)
        {
            command.Parameters.AddWithValue(topic);
        }
        await using var reader = await ExecuteAsync(command, http);
        if (reader is null)
        {
            return;
        }
        if (!await reader.ReadAsync(http.RequestAborted)
            || !principal.Scopes.Allows(reader.GetString(0))
            || !principal.Audience.CanSee(reader.IsDBNull(3) ? null : reader.GetString(3)))
        {
            await NotFoundAsync(http);
            return;
        }
        var document = ReadDocument(reader, 1);
        var response = new DocumentResponse(reader.GetString(0), document.DocKey, document.DocVersion, document.Payload, document.PayloadHash,
            reader.IsDBNull(6) ? null : reader.GetInt64(6));
        await http.Response.WriteAsJsonAsync(response, HydrationJsonContext.Default.DocumentResponse, JsonContentType, http.RequestAborted);
    }

    /// <summary>
    /// Every answer is one identity's documents (or says whether one exists), and a browser may send its token in the
    /// query string: no cache, the browser's or a proxy's, may keep one to serve to a later request.
    /// </summary>
    private static void NoStore(HttpContext http) => http.Response.Headers.CacheControl = "no-store";

    private static async Task ListAsync(HttpContext http, string topic, string? after, string? limit, TokenValidator tokens, NpgsqlDataSource dataSource)
    {
        NoStore(http);
        if (await AuthenticateAsync(http, tokens) is not { } principal || await RefusedForNulAsync(http, after, "after"))
        {
            return;
        }
        // Read here rather than bound, so that a bad one is told what to send (a bound long names .NET types), and any
        // whole number above the cap is capped rather than refused for overflowing.
        var pageSize = DefaultLimit;
        if (limit is not null)
        {
            if (!System.Numerics.BigInteger.TryParse(limit, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var asked)
                || asked < 1)
            {
                await ErrorAsync(http, StatusCodes.Status400BadRequest, HttpErrorCodes.BadRequest,
                    $"limit is a whole number from 1 to {MaxLimit} (more is capped at {MaxLimit}); got '{(limit.Length <= 32 ? limit : limit[..32] + "…")}'");
                return;
            }
            pageSize = (int)System.Numerics.BigInteger.Min(asked, MaxLimit);
        }
        if (!principal.Scopes.Allows(topic))
        {
            await ErrorAsync(http, StatusCodes.Status403Forbidden, HttpErrorCodes.ForbiddenTopic, $"the token's scopes do not cover {topic}");
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(http.RequestAborted);
        // One snapshot for the head and the page: subscribing after this watermark loses nothing.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, http.RequestAborted);
        await using var head = new NpgsqlCommand("SELECT head_watermark FROM relay.topics WHERE topic = $1", connection, transaction);
        head.Parameters.AddWithValue(topic);
        if (await head.ExecuteScalarAsync(http.RequestAborted) is not long watermark)
        {
            await ErrorAsync(http, StatusCodes.Status404NotFound, HttpErrorCodes.UnknownTopic, $"no topic {topic}");
            return;
        }
        await using var page = new NpgsqlCommand(
            "SELECT doc_key, doc_version, org_id, payload::text, payload_hash FROM relay.list_documents($1, $2, $3, $4)", connection, transaction);
        page.Parameters.AddWithValue(topic);
        page.Parameters.AddWithValue(principal.OrgId);
        page.Parameters.AddWithValue(after ?? "");
        page.Parameters.AddWithValue(pageSize);
        var documents = new List<HydratedDocument>(pageSize);
        var (read, last) = (0, "");
        await using (var reader = await page.ExecuteReaderAsync(http.RequestAborted))
        {
            while (await reader.ReadAsync(http.RequestAborted))
            {
                (read, last) = (read + 1, reader.GetString(0));
                // The query selects the organisation's documents; the audience decides what is delivered, as everywhere.
                if (principal.Audience.CanSee(reader.IsDBNull(2) ? null : reader.GetString(2)))
                {
                    documents.Add(ReadDocument(reader, 0));
                }
            }
        }
        var next = read == pageSize ? last : null;
        await http.Response.WriteAsJsonAsync(new DocumentPage(topic, watermark, documents, next), HydrationJsonContext.Default.DocumentPage,
            JsonContentType, http.RequestAborted);
    }

    /// <summary>
    /// The doc_key as the client percent-encoded it. Kestrel decodes a path except for <c>%2F</c>, so that a key with
    /// a <c>/</c> could not be told from one with the text <c>%2F</c>: where the routed key holds that text, the key is
    /// decoded from the request line instead.
    /// </summary>
    private static string DocKeyAsSent(HttpContext http, string routed)
    {
        const string Route = "/sync/v1/doc/";
        if (!routed.Contains("%2F", StringComparison.OrdinalIgnoreCase) || http.Features.Get<IHttpRequestFeature>()?.RawTarget is not { } target)
        {
            return routed;
        }
        var path = target.Split('?', 2)[0];
        var start = path.LastIndexOf(Route, StringComparison.Ordinal);
        return start < 0 ? routed : Uri.UnescapeDataString(path[(start + Route.Length)..]);
    }

    /// <summary>A document from the columns doc_key, doc_version, org_id, payload (text) and payload_hash at <paramref name="first"/>.</summary>
    private static HydratedDocument ReadDocument(NpgsqlDataReader reader, int first)
    {
        var payload = Encoding.UTF8.GetBytes(reader.GetString(first + 3));
        var stored = reader.IsDBNull(first + 4) ? null : reader.GetFieldValue<byte[]>(first + 4);
        return new HydratedDocument(reader.GetString(first), reader.GetInt64(first + 1), payload, PayloadHash.OfStored(stored, payload));
    }

    private static async Task<RelayPrincipal?> AuthenticateAsync(HttpContext http, TokenValidator tokens)
    {
        var result = await tokens.ValidateAsync(TokenExtractor.FromSyncRequest(http.Request).Token);
        if (result.Principal is null)
        {
            await http.Response.WriteUnauthorizedAsync(result.Failure!, http.RequestAborted);
        }
        return result.Principal;
    }

    private static async Task<NpgsqlDataReader?> ExecuteAsync(NpgsqlCommand command, HttpContext http)
    {
        try
        {
            return await command.ExecuteReaderAsync(http.RequestAborted);
        }
        catch (PostgresException e) when (e.SqlState == RelaySqlStates.UnknownTopic)
        {
            await NotFoundAsync(http);
            return null;
        }
    }

    /// <summary>
    /// PostgreSQL's text cannot hold a NUL character: a query parameter with one is the client's mistake, a 400 (Kestrel
    /// refuses one in the path itself).
    /// </summary>
    private static async Task<bool> RefusedForNulAsync(HttpContext http, string? value, string name)
    {
        if (value is null || !value.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }
        await ErrorAsync(http, StatusCodes.Status400BadRequest, HttpErrorCodes.BadRequest, $"{name} must not contain a NUL character");
        return true;
    }

    private static Task NotFoundAsync(HttpContext http) => ErrorAsync(http, StatusCodes.Status404NotFound, HttpErrorCodes.NotFound, "no such document");

    private static Task ErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new HttpError(code, message), HydrationJsonContext.Default.HttpError, cancellationToken: http.RequestAborted);
    }
}
