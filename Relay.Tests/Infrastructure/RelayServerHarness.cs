using System.Net.Http.Headers;
using Relay.Core.Auth;
using Relay.Host.Development;
using Relay.Host.Hosting;

namespace Relay.Tests;

/// <summary>The whole relay (Kestrel, feed, endpoints) in this process on a real loopback port, signing tokens with a test key.</summary>
public sealed class RelayServerHarness : IAsyncDisposable
{
    public static readonly HmacKey Key = new("test-key", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    private RelayServerHarness(int port) => Port = port;

    public int Port { get; }

    public Uri Http => new($"http://127.0.0.1:{Port}");

    public Uri WebSocket => new($"ws://127.0.0.1:{Port}/sync/v1/ws");

    public Uri Phoenix => new($"ws://127.0.0.1:{Port}/socket/websocket?vsn=2.0.0");

    /// <summary>Starts the relay; <paramref name="settings"/> are configuration keys such as <c>Relay:Sync:IdleTimeout</c>.</summary>
    public static async Task<RelayServerHarness> StartAsync(
        IDictionary<string, string>? settings = null, int? port = null, string? connectionString = null)
    {
        var harness = new RelayServerHarness(port ?? FreePort.Next());
        var args = new Dictionary<string, string?>
        {
            ["Relay:ConnectionString"] = connectionString ?? TestDatabase.ConnectionString,
            ["urls"] = harness.Http.ToString().TrimEnd('/'),
            [$"Relay:Auth:Keys:{Key.KeyId}"] = Key.SecretBase64,
            ["Relay:AutoMigrate"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            args[name] = value;
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness._run = Task.Run(() => RelayServer.RunAsync(
            args, forceEmbedded: false, (_, _, _) => started.TrySetResult(), harness._stop.Token));
        if (await Task.WhenAny(started.Task, harness._run) == harness._run)
        {
            await harness._run;
            Assert.Fail("the relay stopped while starting");
        }
        await harness.WaitReadyAsync();
        return harness;
    }

    /// <summary>A token for this relay's key.</summary>
    public static string Token(string org = "org-1", string scopes = "test.*", TimeSpan? lifetime = null, string subject = "tester") =>
        DevTokens.Mint(Key, new DevTokenRequest(subject, org, scopes.Split(' '), lifetime ?? TimeSpan.FromHours(1)));

    /// <summary>A token for this relay's key whose <c>exp</c> is <paramref name="expiresAt"/>, in the past if need be.</summary>
    public static string TokenExpiringAt(DateTimeOffset expiresAt, string org = "org-1", string scopes = "test.*")
    {
        var claims = Auth.TokenForge.Claims();
        claims["oa_org_id"] = org;
        claims["oa_sync_scopes"] = new System.Text.Json.Nodes.JsonArray([.. scopes.Split(' ').Select(s => (System.Text.Json.Nodes.JsonNode?)s)]);
        claims["exp"] = expiresAt.ToUnixTimeSeconds();
        return Auth.TokenForge.Hs256(Key, claims);
    }

    public HttpClient HttpClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Http, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public async Task WaitReadyAsync()
    {
        using var http = HttpClient();
        await Eventually.ThatAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the relay to be ready");
    }

    /// <summary>Stops the relay as SIGTERM would.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
            // Stopped while starting.
        }
        _stop.Dispose();
    }
}
