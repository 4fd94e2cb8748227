using System.Text;
using System.Text.Json;
using Npgsql;
using Relay.Core.Auth;
using Relay.Protocol.Hashing;
using Relay.Host.Auth;
using Relay.Protocol;

namespace Relay.Host.Hydration;

/// <summary>
/// HTTP hydration (CONTRACT §3): <c>GET /sync/v1/doc/{doc_key}</c> and <c>GET /sync/v1/list/{topic}?after=&amp;limit=</c>.
/// Payloads are inline JSON, as in the JSON framing. Another organisation's document is a 404, never a 403.
/// </summary>
internal static class HydrationRoutes
{
    /// <summary>The most documents one list page returns; a larger <c>limit</c> is capped to it.</summary>
    public const int MaxLimit = 500;

    /// <summary>The page size when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    public static void MapHydration(this WebApplication app)
    {
        app.MapGet("/sync/v1/doc/{docKey}", GetDocumentAsync);
        app.MapGet("/sync/v1/list/{topic}", ListAsync);
    }

    private static async Task GetDocumentAsync(HttpContext http, string docKey, string? topic, TokenValidator tokens, NpgsqlDataSource dataSource)
    {
        if (await AuthenticateAsync(http, tokens) is not { } principal)
        {
            return;
        }
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
        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("topic", reader.GetString(0));
        WriteDocument(json, reader, 1);
        if (!reader.IsDBNull(6))
        {
            json.WriteNumber("watermark", reader.GetInt64(6));
        }
        json.WriteEndObject();
    }

    private static async Task ListAsync(HttpContext http, string topic, string? after, int? limit, TokenValidator tokens, NpgsqlDataSource dataSource)
    {
        if (await AuthenticateAsync(http, tokens) is not { } principal)
        {
            return;
        }
        if (!principal.Scopes.Allows(topic))
        {
            await ErrorAsync(http, StatusCodes.Status403Forbidden, HttpErrorCodes.ForbiddenTopic, $"the token's scopes do not cover {topic}");
            return;
        }
        var pageSize = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
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
        await using var reader = await page.ExecuteReaderAsync(http.RequestAborted);
        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("topic", topic);
        json.WriteNumber("watermark", watermark);
        json.WriteStartArray("documents");
        string? last = null;
        var count = 0;
        while (await reader.ReadAsync(http.RequestAborted))
        {
            json.WriteStartObject();
            WriteDocument(json, reader, 0);
            json.WriteEndObject();
            last = reader.GetString(0);
            count++;
        }
        json.WriteEndArray();
        if (count == pageSize)
        {
            json.WriteString("next", last);
        }
        else
        {
            json.WriteNull("next");
        }
        json.WriteEndObject();
    }

    /// <summary>Writes docKey, docVersion, payload (inline JSON) and payloadHash from the columns at <paramref name="first"/>.</summary>
    private static void WriteDocument(Utf8JsonWriter json, NpgsqlDataReader reader, int first)
    {
        json.WriteString("docKey", reader.GetString(first));
        json.WriteNumber("docVersion", reader.GetInt64(first + 1));
        var payload = reader.GetString(first + 3);
        json.WritePropertyName("payload");
        json.WriteRawValue(payload, skipInputValidation: true);
        var stored = reader.IsDBNull(first + 4) ? null : reader.GetFieldValue<byte[]>(first + 4);
        json.WriteBase64String("payloadHash", stored ?? PayloadHash.Compute(Encoding.UTF8.GetBytes(payload)));
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

    private static Task NotFoundAsync(HttpContext http) => ErrorAsync(http, StatusCodes.Status404NotFound, HttpErrorCodes.NotFound, "no such document");

    private static Task ErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { error = code, message }, http.RequestAborted);
    }
}
