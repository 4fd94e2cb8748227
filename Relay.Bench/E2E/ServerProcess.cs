using System.Diagnostics;
using System.Net.Sockets;
using Relay.Core.Auth;
using Relay.Host.Development;

namespace Relay.Bench.E2E;

/// <summary>
/// A WebSocket server under test as a child process on a loopback port: the relay (<c>relay serve</c>, with a
/// benchmark signing key), the bare Kestrel fan-out loop of <see cref="RawFanoutServer"/> that serves as its delivery
/// baseline, or the bare journal consumer of <see cref="RawConsumer"/> that serves as its feed's.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    public static readonly HmacKey Key = new("bench", Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    private readonly Process _process;

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public Uri WebSocket => new($"ws://127.0.0.1:{Port}/sync/v1/ws");

    public Uri Http => new($"http://127.0.0.1:{Port}/");

    /// <summary>
    /// Starts <c>relay serve</c> on <paramref name="connectionString"/> with the given feed, on <paramref name="port"/> (a
    /// free one by default) and with <paramref name="settings"/> as configuration keys (<c>Relay:DatabaseConnections</c>).
    /// </summary>
    public static Task<ServerProcess> StartRelayAsync(
        string connectionString, string feed = "replication", int? port = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var listen = port ?? FreePort();
        return StartAsync(
            "relay.dll", ["serve", "--connection-string", connectionString, "--urls", $"http://127.0.0.1:{listen}", "--feed", feed], listen, settings);
    }

    /// <summary>Starts the bare Kestrel WebSocket loop: no database, no relay.</summary>
    public static Task<ServerProcess> StartRawAsync()
    {
        var port = FreePort();
        return StartAsync("Relay.Bench.dll", [RawFanoutServer.Command, $"{port}"], port, s_relayRuntime);
    }

    /// <summary>Starts the bare pgoutput consumer of the journal: no relay, no clients.</summary>
    public static Task<ServerProcess> StartRawConsumerAsync(string connectionString)
    {
        var port = FreePort();
        return StartAsync("Relay.Bench.dll", [RawConsumer.Command, $"{port}", connectionString], port, s_relayRuntime);
    }

    /// <summary>
    /// The relay's runtime settings (Relay.Host.csproj), given to the baselines too, so that a baseline's CPU is not its
    /// idle workers spinning: this process runs with the runtime's defaults, which the load generator wants.
    /// </summary>
    private static readonly Dictionary<string, string> s_relayRuntime = new()
    {
        ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        ["DOTNET_GCConserveMemory"] = "5",
    };

    private static async Task<ServerProcess> StartAsync(string assembly, string[] arguments, int port, IReadOnlyDictionary<string, string>? settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, assembly), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                [$"Relay__Auth__Keys__{Key.KeyId}"] = Key.SecretBase64,
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {assembly}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"{assembly}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/readyz")).IsSuccessStatusCode)
                {
                    Console.WriteLine($"{assembly} {arguments[0]} started: pid {process.Id}");
                    return new ServerProcess(process, port);
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

    /// <summary>Resident memory of the process, in bytes.</summary>
    public long ResidentBytes() => Status("VmRSS:");

    /// <summary>The most resident memory the process has had, in bytes.</summary>
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
