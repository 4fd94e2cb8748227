using Npgsql;
using Relay.Core.Provisioning;

namespace Relay.Host.Development;

/// <summary>
/// A private PostgreSQL cluster started from the local binaries with <c>wal_level=logical</c>, listening on a free
/// loopback port (a persistent cluster keeps its port in <c>port</c> beside <c>data/</c>, so that it stays the same from
/// run to run), owned by the <c>postgres</c> OS user when this process is root. Disposing stops it, and deletes it
/// unless <see cref="LocalClusterOptions.Persistent"/>. A start that fails or is cancelled stops what it started.
/// </summary>
public sealed partial class LocalCluster : ProvisionedDatabase
{
    private readonly LocalClusterOptions _options;
    private readonly string _binDirectory;
    private readonly ILogger _logger;
    private int _port;
    private bool _borrowed;

    private LocalCluster(LocalClusterOptions options, string binDirectory, int port, ILogger logger)
    {
        _options = options;
        _binDirectory = binDirectory;
        _port = port;
        _logger = logger;
    }

    private string DataDirectory => Path.Combine(_options.Directory, "data");

    /// <inheritdoc />
    public override string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _port,
        Username = ProcessRunner.PostgresUser,
        Database = _options.Database,
    }.ConnectionString;

    /// <inheritdoc />
    public override string Description => $"local cluster at {_options.Directory} (port {_port})";

    /// <summary>
    /// Initializes the cluster if needed, starts it and creates the database. A persistent cluster that another process
    /// (a running <c>relay up</c>) already started is used as it is, and left running when disposed.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(
        LocalClusterOptions options, string binDirectory, ILogger logger, CancellationToken cancellationToken = default)
    {
        var directory = Path.GetFullPath(options.Directory);
        var cluster = new LocalCluster(options with { Directory = directory }, binDirectory, options.Persistent ? StablePort(directory) : FreePort.Next(), logger);
        if (options.Persistent && await cluster.RunningPortAsync(cancellationToken) is { } port)
        {
            cluster._port = port;
            cluster._borrowed = !options.StopIfRunning;
            return cluster;
        }
        try
        {
            await cluster.InitializeAsync(cancellationToken);
            await cluster.StartServerAsync(cancellationToken);
            await cluster.CreateDatabaseAsync(cancellationToken);
        }
        catch
        {
            // Ctrl-C or a failure part way: leave nothing running.
            await cluster.PgCtlAsync(["stop", "-D", cluster.DataDirectory, "-m", "fast", "-w", "-t", "60"], ignoreFailure: true, CancellationToken.None);
            throw;
        }
        return cluster;
    }

    /// <summary>Stops the server of a persistent cluster if it runs; false when nothing ran there.</summary>
    public static async Task<bool> StopAsync(string directory, string binDirectory, CancellationToken cancellationToken = default)
    {
        var data = Path.Combine(Path.GetFullPath(directory), "data");
        if (!Runs(data))
        {
            return false;
        }
        try
        {
            await ProcessRunner.RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w", "-t", "60"], cancellationToken);
            return true;
        }
        catch (ProvisioningException) when (!File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            return false;
        }
    }

    /// <summary>The port kept in <c>port</c> under the cluster's folder; a free one, kept there, the first time.</summary>
    private static int StablePort(string directory)
    {
        var file = Path.Combine(directory, "port");
        if (File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var kept))
        {
            return kept;
        }
        var port = FreePort.Next();
        Directory.CreateDirectory(directory);
        File.WriteAllText(file, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return port;
    }

    /// <inheritdoc />
    public override async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await PgCtlAsync(["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], ignoreFailure: false, cancellationToken);
        await StartServerAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_borrowed)
        {
            return;
        }
        await PgCtlAsync(["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"]);
        Log.Stopped(_logger, _options.Directory);
        if (!_options.Persistent)
        {
            Directory.Delete(_options.Directory, recursive: true);
        }
    }

    /// <summary>The port of a server running on this data directory (line 4 of <c>postmaster.pid</c>), if one runs.</summary>
    private async Task<int?> RunningPortAsync(CancellationToken cancellationToken)
    {
        if (!Runs(DataDirectory))
        {
            return null;
        }
        var lines = await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "postmaster.pid"), cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    /// <summary>
    /// Whether the server named in <paramref name="data"/>'s <c>postmaster.pid</c> runs there. A crash leaves the file
    /// behind, and its pid may belong to another process since: one whose working directory (a postmaster works in its
    /// data directory) holds no such file is not this cluster's server, and is neither signalled nor taken for it.
    /// Without <c>/proc</c>, the file is taken at its word.
    /// </summary>
    internal static bool Runs(string data)
    {
        string recorded;
        try
        {
            recorded = File.ReadAllText(Path.Combine(data, "postmaster.pid"));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        if (!Directory.Exists("/proc/self"))
        {
            return true;
        }
        if (!int.TryParse(recorded.AsSpan(0, Math.Max(0, recorded.IndexOf('\n', StringComparison.Ordinal))), out var pid))
        {
            return false;
        }
        try
        {
            // Its pid and data directory, the lines a server never rewrites (it does the status line, while it starts).
            return Identity(File.ReadAllText($"/proc/{pid}/cwd/postmaster.pid")) == Identity(recorded);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone, or another user's: a server of this directory runs as this user (or as postgres, under root).
            return false;
        }
    }

    private static string Identity(string postmasterPid) => string.Join('\n', postmasterPid.Split('\n').Take(2));

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.Directory);
        await ProcessRunner.GiveToPostgresAsync(_options.Directory, cancellationToken);
        if (ProcessRunner.RunsAsRoot)
        {
            try
            {
                await ProcessRunner.RunAsync("test", ["-w", _options.Directory], cancellationToken);
            }
            catch (ProvisioningException e)
            {
                throw new ProvisioningException(
                    $"the '{ProcessRunner.PostgresUser}' user cannot reach {_options.Directory}: let it traverse the parent folders, or choose another folder", e);
            }
        }
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            if (Runs(DataDirectory))
            {
                // Left running by a process that died: stop it so that this one owns it.
                await PgCtlAsync(["stop", "-D", DataDirectory, "-m", "fast", "-w"], ignoreFailure: true, cancellationToken);
            }
            else
            {
                // Left by a server that crashed: PostgreSQL would refuse to start while its pid is another live process's.
                File.Delete(Path.Combine(DataDirectory, "postmaster.pid"));
            }
            // A cluster made before its settings were written in its staging folder may lack them (a start interrupted
            // right after initdb): written now, since the relay cannot work without them.
            if (!(await File.ReadAllLinesAsync(ConfigurationFile(DataDirectory), cancellationToken)).Contains("wal_level = logical"))
            {
                await ConfigureAsync(DataDirectory, cancellationToken);
            }
            return;
        }

        if (Directory.Exists(DataDirectory) && Directory.EnumerateFileSystemEntries(DataDirectory).Any())
        {
            throw new ProvisioningException(
                $"{DataDirectory} holds files but no PostgreSQL cluster (no PG_VERSION): move them away, or give another --data-dir");
        }
        // initdb runs in a staging folder, which becomes the data directory only once configured: a start interrupted
        // at any point leaves either no cluster or a complete one.
        var staging = DataDirectory + ".init";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        List<string> initdb = ["-D", staging, "-A", "trust", "-U", ProcessRunner.PostgresUser, "-E", "UTF8", "--locale=C.UTF-8"];
        if (!_options.Durable)
        {
            initdb.Add("--no-sync");
        }
        await ProcessRunner.RunAsync(Path.Combine(_binDirectory, "initdb"), initdb, cancellationToken);
        await ConfigureAsync(staging, cancellationToken);
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory);
        }
        Directory.Move(staging, DataDirectory);
        Log.Initialized(_logger, _options.Directory);
    }

    private static string ConfigurationFile(string dataDirectory) => Path.Combine(dataDirectory, "postgresql.conf");

    private async Task ConfigureAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var settings = new List<string>
        {
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "wal_level = logical",
            "max_wal_senders = 32",
            "max_replication_slots = 32",
            "max_connections = 300",
            "shared_buffers = 256MB",
            $"fsync = {(_options.Durable ? "on" : "off")}",
            $"full_page_writes = {(_options.Durable ? "on" : "off")}",
        };
        await File.AppendAllLinesAsync(ConfigurationFile(dataDirectory), settings, cancellationToken);
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var logFile = Path.Combine(_options.Directory, "postgres.log");
        var logged = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
        try
        {
            await PgCtlAsync(["start", "-D", DataDirectory, "-l", logFile, "-w", "-t", "60", "-o", $"-p {_port}"],
                ignoreFailure: false, cancellationToken);
        }
        catch (ProvisioningException e)
        {
            // pg_ctl says only that the server did not start; why is in the server's log.
            var lines = await LoggedSinceAsync(logFile, logged);
            if (lines.LastOrDefault(line => line.Contains("FATAL:", StringComparison.Ordinal)) is not { } fatal)
            {
                throw;
            }
            var what = lines.Any(line => line.Contains("could not bind", StringComparison.Ordinal))
                ? $"port {_port}, kept in {Path.Combine(_options.Directory, "port")}, is taken by another program: stop it, or delete that file to pick another port"
                : $"see {logFile}";
            throw new ProvisioningException($"PostgreSQL did not start ({fatal[fatal.IndexOf("FATAL:", StringComparison.Ordinal)..]}): {what}", e);
        }
        Log.Started(_logger, _options.Directory, _port);
    }

    /// <summary>The lines <paramref name="logFile"/> got past <paramref name="offset"/>; none when there is no such file.</summary>
    private static async Task<string[]> LoggedSinceAsync(string logFile, long offset)
    {
        if (!File.Exists(logFile))
        {
            return [];
        }
        await using var log = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        log.Seek(Math.Min(offset, log.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(log);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private async Task CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.AddWithValue(_options.Database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_options.Database}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task PgCtlAsync(IReadOnlyList<string> arguments, bool ignoreFailure = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await ProcessRunner.RunAsync(Path.Combine(_binDirectory, "pg_ctl"), arguments, cancellationToken);
        }
        catch (ProvisioningException) when (ignoreFailure)
        {
            // Nothing was running.
        }
    }
}
