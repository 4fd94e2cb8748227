using System.Diagnostics;
using Relay.Bench.E2E;

namespace Relay.Bench.Chaos;

/// <summary>
/// One relay node: <c>relay serve</c> as a child process on a port of its own that survives restarts, so clients
/// retrying it find it again. Its output goes to <c>node-N.log</c> in the run's folder, not the console.
/// </summary>
internal sealed class RelayNode(int index, int port, string connectionString, string logDirectory) : IAsyncDisposable
{
    private static readonly TimeSpan s_readyWithin = TimeSpan.FromSeconds(90);
    private readonly Lock _logLock = new();
    private Process? _process;

    public int Index { get; } = index;

    public Uri Url { get; } = new($"http://127.0.0.1:{port}/");

    private string LogFile => Path.Combine(logDirectory, $"node-{Index}.log");

    /// <summary>Starts the process and waits until <c>/readyz</c> answers 200 (database and feed up).</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "relay.dll"), "serve", "--connection-string", connectionString, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                [$"Relay__Auth__Keys__{ServerProcess.Key.KeyId}"] = ServerProcess.Key.SecretBase64,
                ["Relay__Sync__HeartbeatInterval"] = "00:00:02",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start relay node {Index}");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitReadyAsync();
    }

    /// <summary>Waits until <c>/readyz</c> answers 200: the node reaches PostgreSQL and its feed runs.</summary>
    public async Task WaitReadyAsync()
    {
        var process = _process!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < s_readyWithin && !process.HasExited)
        {
            try
            {
                if ((await http.GetAsync(new Uri(Url, "readyz"))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException(
            $"relay node {Index} was not ready within {s_readyWithin.TotalSeconds:0} s (exited: {process.HasExited}); see {LogFile}");
    }

    /// <summary>SIGKILL: no shutdown at all, as a crashed host or an OOM kill.</summary>
    public async Task KillAsync()
    {
        var process = _process!;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>SIGTERM, as a rolling deployment does; a node not gone after 30 s is killed and reported.</summary>
    public async Task TerminateAsync()
    {
        var process = _process!;
        await SignalAsync("TERM");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new InvalidOperationException($"relay node {Index} did not exit within 30 s of SIGTERM");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
    }

    /// <summary>SIGSTOP for <paramref name="duration"/>, then SIGCONT: the process is alive but answers nothing.</summary>
    public async Task StallAsync(TimeSpan duration)
    {
        await SignalAsync("STOP");
        try
        {
            await Task.Delay(duration);
        }
        finally
        {
            await SignalAsync("CONT");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process && !process.HasExited)
        {
            await KillAsync();
        }
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("could not start kill");
        await kill.WaitForExitAsync();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_logLock)
            {
                File.AppendAllText(LogFile, line + Environment.NewLine);
            }
        }
    }
}
