using System.Diagnostics;
using System.Net.Sockets;
using Relay.Core.Auth;

namespace Relay.Bench.E2E;

/// <summary>The relay executable (<c>relay serve</c>) as a child process on a loopback port, with a benchmark signing key.</summary>
internal sealed class RelayProcess : IAsyncDisposable
{
    public static readonly HmacKey Key = new("bench", Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    private readonly Process _process;

    private RelayProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri WebSocket => new($"ws://127.0.0.1:{Port}/sync/v1/ws");

    public static async Task<RelayProcess> StartAsync(string connectionString, string feed = "replication")
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "relay.dll"), "serve",
            "--connection-string", connectionString, "--urls", $"http://127.0.0.1:{port}", "--feed", feed])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                [$"Relay__Auth__Keys__{Key.KeyId}"] = Key.SecretBase64,
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the relay");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"relay: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/readyz")).IsSuccessStatusCode)
                {
                    return new RelayProcess(process, port);
                }
            }
            catch (HttpRequestException) when (attempt < 600 && !process.HasExited)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
    }

    public static string Token(string scopes = "bench.*") =>
        DevTokens.Mint(Key, new DevTokenRequest("bench", "org-1", [scopes], TimeSpan.FromHours(1)));

    /// <summary>Resident memory of the relay process, in bytes.</summary>
    public long ResidentBytes() => Status("VmRSS:");

    /// <summary>The most resident memory the relay process has had, in bytes.</summary>
    public long PeakResidentBytes() => Status("VmHWM:");

    private long Status(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
