using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.Retry;
using Relay.Protocol.Hydration;

namespace Relay.Client;

/// <summary>
/// HTTP hydration (<c>GET /sync/v1/doc/{doc_key}</c>, <c>GET /sync/v1/list/{topic}</c>). Transient failures (no
/// connection, 5xx) are retried by a Polly pipeline with exponential backoff and jitter. The bodies are read with the
/// relay's own source-generated serializers (<see cref="HydrationJsonContext"/>).
/// </summary>
internal sealed class HydrationClient : IDisposable
{
    /// <summary>Documents per list page asked for; the relay caps pages at 500.</summary>
    private const int PageSize = 500;

    private readonly HttpClient _http;
    private readonly Func<CancellationToken, ValueTask<string>> _tokens;
    private readonly ResiliencePipeline _retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(e => e.StatusCode is null or >= HttpStatusCode.InternalServerError),
            MaxRetryAttempts = 5,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
        })
        .Build();

    /// <summary>Requests go to <see cref="RelayClientOptions.Url"/> with a bearer token from <paramref name="tokens"/>.</summary>
    public HydrationClient(RelayClientOptions options, Func<CancellationToken, ValueTask<string>> tokens)
    {
        _http = new HttpClient(options.HttpHandler ?? new SocketsHttpHandler(), disposeHandler: options.HttpHandler is null)
        {
            BaseAddress = options.Url,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _tokens = tokens;
    }

    /// <summary>The document, or null when the relay answers 404 (deleted, or not visible to this token).</summary>
    public async Task<CachedDocument?> GetDocumentAsync(string topic, string docKey, CancellationToken cancellationToken)
    {
        var path = $"/sync/v1/doc/{Uri.EscapeDataString(docKey)}?topic={Uri.EscapeDataString(topic)}";
        var document = await GetAsync(path, HydrationJsonContext.Default.DocumentResponse, cancellationToken);
        return document is null ? null : ToCached(document);
    }

    /// <summary>Every document of <paramref name="topic"/>, page by page, and the watermark of the first page's snapshot.</summary>
    public async Task<(long Watermark, List<CachedDocument> Documents)> ListAsync(string topic, CancellationToken cancellationToken)
    {
        long? watermark = null;
        var documents = new List<CachedDocument>();
        string? after = "";
        while (after is not null)
        {
            var path = $"/sync/v1/list/{Uri.EscapeDataString(topic)}?limit={PageSize}&after={Uri.EscapeDataString(after)}";
            var page = await GetAsync(path, HydrationJsonContext.Default.DocumentPage, cancellationToken)
                ?? throw new JsonException($"GET {path} answered null");
            // Subscribing after the first page's watermark replays every change made while later pages were read.
            watermark ??= page.Watermark;
            documents.AddRange(page.Documents.Select(ToCached));
            after = page.Next;
        }
        return (watermark ?? 0, documents);
    }

    public void Dispose() => _http.Dispose();

    private static CachedDocument ToCached(HydratedDocument document) =>
        new(document.DocKey, document.DocVersion, document.Payload, document.PayloadHash, Deleted: false);

    /// <summary>The response's body, or null when a document request is answered 404; any other failure throws.</summary>
    private async Task<T?> GetAsync<T>(string path, JsonTypeInfo<T> body, CancellationToken cancellationToken)
        where T : class =>
        await _retry.ExecuteAsync(async cancel =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _tokens(cancel));
            using var response = await _http.SendAsync(request, cancel);
            if (response.StatusCode == HttpStatusCode.NotFound && path.StartsWith("/sync/v1/doc/", StringComparison.Ordinal))
            {
                return null;
            }
            response.EnsureSuccessStatusCode();
            await using var content = await response.Content.ReadAsStreamAsync(cancel);
            return await JsonSerializer.DeserializeAsync(content, body, cancel);
        }, cancellationToken);
}
