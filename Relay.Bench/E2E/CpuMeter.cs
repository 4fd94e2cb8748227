using Npgsql;

namespace Relay.Bench.E2E;

/// <summary>
/// Where the machine's CPU went during a workload, from <c>/proc</c>: the server under test, PostgreSQL (the postmaster
/// and its children, including those that exited), this process (the load generator), and idle, each as a share of all
/// cores. This is the first profile of every scenario: it says which process is the limit before a trace says why.
/// </summary>
internal sealed class CpuMeter
{
    private readonly int? _server;
    private readonly int? _postmaster;
    private readonly long[] _start;

    private CpuMeter(int? server, int? postmaster)
    {
        _server = server;
        _postmaster = postmaster;
        _start = Sample();
    }

    /// <summary>Starts measuring; <paramref name="postmaster"/> is null when the database is not on this machine.</summary>
    public static CpuMeter Start(ServerProcess? server, int? postmaster) => new(server?.ProcessId, postmaster);

    /// <summary>The postmaster's process id, when the database runs on this machine and its data directory is readable.</summary>
    public static async Task<int?> FindPostmasterAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SHOW data_directory");
        var directory = (string)(await command.ExecuteScalarAsync())!;
        var pidFile = Path.Combine(directory, "postmaster.pid");
        return File.Exists(pidFile) ? int.Parse(File.ReadLines(pidFile).First()) : null;
    }

    /// <summary>CPU time the server process used between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public TimeSpan ServerTime { get; private set; }

    /// <summary>The shares since <see cref="Start"/>, as "server 40% · PostgreSQL 30% · load 20% · idle 10%".</summary>
    public string Stop(string serverName = "relay")
    {
        var end = Sample();
        var total = end[0] - _start[0];
        // /proc counts in clock ticks of 1/100 s (USER_HZ) on every Linux this runs on.
        ServerTime = TimeSpan.FromSeconds((end[1] - _start[1]) / 100.0);
        string Share(int index) => $"{100.0 * (end[index] - _start[index]) / total:F0}%";
        var parts = new List<string>();
        if (_server is not null)
        {
            parts.Add($"{serverName} {Share(1)}");
        }
        parts.Add(_postmaster is null ? "PostgreSQL n/a" : $"PostgreSQL {Share(2)}");
        parts.Add($"load {Share(3)}");
        parts.Add($"idle {Share(4)}");
        return string.Join(" · ", parts);
    }

    /// <summary>[all CPU time, server, PostgreSQL, this process, idle], in ticks.</summary>
    private long[] Sample()
    {
        var machine = MachineTicks();
        return
        [
            machine.Take(8).Sum(),
            _server is { } server ? ProcessTicks(server, withChildren: false) : 0,
            _postmaster is { } postmaster ? PostgresTicks(postmaster) : 0,
            ProcessTicks(Environment.ProcessId, withChildren: false),
            machine[3] + machine[4],
        ];
    }

    /// <summary>The machine's CPU time by kind (user, nice, system, idle, iowait, …), in ticks, from <c>/proc/stat</c>.</summary>
    public static long[] MachineTicks() =>
        [.. File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse)];

    /// <summary>The CPU time of the postmaster and all its children, including those that exited, in ticks.</summary>
    public static long PostgresTicks(int postmaster) =>
        ProcessTicks(postmaster, withChildren: true) + ChildrenOf(postmaster).Sum(child => ProcessTicks(child, withChildren: true));

    /// <summary>utime + stime, plus cutime + cstime (children that exited and were waited for) when asked.</summary>
    public static long ProcessTicks(int pid, bool withChildren)
    {
        var fields = StatFields(pid);
        if (fields is null)
        {
            return 0;
        }
        var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
        return withChildren ? ticks + long.Parse(fields[13]) + long.Parse(fields[14]) : ticks;
    }

    private static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!))
            .Where(pid => StatFields(pid) is { } fields && fields[1] == $"{parent}");

    /// <summary>The fields of /proc/[pid]/stat after the command name (state is [0], ppid [1], utime [11]); null once gone.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
