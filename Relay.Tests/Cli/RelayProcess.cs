using System.Diagnostics;
using System.Text;

namespace Relay.Tests.Cli;

/// <summary>The <c>relay</c> executable run as an operator runs it: a real process, its exit code and both streams.</summary>
public sealed class RelayProcess : IAsyncDisposable
{
    /// <summary>A 32-byte development secret, for runs that need a key.</summary>
    public static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private RelayProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    /// <summary>Starts <c>relay</c> with <paramref name="args"/>, in <paramref name="directory"/> (a fresh temporary folder by default).</summary>
    public static RelayProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? directory = null)
    {
        // Through env --default-signal=INT: a runner started in the background (CI, nohup) may hand its children SIGINT
        // ignored, and then the Ctrl-C these tests send would never arrive; a terminal's Ctrl-C always does.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? NewFolder(),
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(TestContext.CurrentContext.TestDirectory, "relay.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("Relay__", StringComparison.Ordinal) || k == "RELAY_TOKEN").ToList())
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new RelayProcess(Process.Start(start)!);
    }

    /// <summary><c>relay serve</c> on the test database on <paramref name="port"/>, with the test key; see <see cref="WaitReadyAsync"/>.</summary>
    public static RelayProcess Serve(int port) => Start(
        ["serve", "--connection-string", TestDatabase.ConnectionString, "--urls", $"http://127.0.0.1:{port}"],
        new Dictionary<string, string>
        {
            [$"Relay__Auth__Keys__{RelayServerHarness.Key.KeyId}"] = RelayServerHarness.Key.SecretBase64,
            ["Relay__AutoMigrate"] = "false",
        });

    /// <summary>Waits until the relay listening on <paramref name="port"/> answers <c>/readyz</c> with 200; fails if it exits.</summary>
    public async Task WaitReadyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.ThatAsync(async () =>
        {
            Assert.That(HasExited, Is.False, $"the relay on port {port} exited: {Error}");
            try
            {
                return (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"))).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, $"the relay on port {port} to be ready");
    }

    /// <summary>A fresh folder that the <c>postgres</c> user may traverse (unlike <c>CreateTempSubdirectory</c>'s, which only its owner may).</summary>
    public static string NewFolder() =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"relay-cli-{Guid.NewGuid():N}")).FullName;

    /// <summary>Runs <c>relay</c> to its end (at most two minutes) and returns its exit code and streams.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(
        IEnumerable<string> args, IDictionary<string, string>? environment = null, string? directory = null)
    {
        await using var relay = Start(args, environment, directory);
        var exit = await relay.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (exit, relay.Output, relay.Error);
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        // The asynchronous readers may still hold the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, as Ctrl-C in a terminal does.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Sends SIGTERM, as a rolling deployment (or Kubernetes) stops a node.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (builder)
        {
            builder.AppendLine(line);
        }
    }
}
