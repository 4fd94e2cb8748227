namespace Relay.Host.Development;

/// <summary>Finds the PostgreSQL server binaries (<c>initdb</c>, <c>pg_ctl</c>) on this machine.</summary>
public static class PostgresBinaries
{
    /// <summary>
    /// The directory holding <c>initdb</c> and <c>pg_ctl</c>: <c>pg_config --bindir</c>, then <c>PATH</c>, then the
    /// newest <c>/usr/lib/postgresql/*/bin</c> (Debian's layout); <see langword="null"/> when there are none.
    /// </summary>
    public static string? Find()
    {
        var candidates = FromPgConfig().Concat(FromPath()).Concat(FromDebianLayout());
        return candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static IEnumerable<string> FromPgConfig()
    {
        var pgConfig = FromPath().Select(dir => Path.Combine(dir, "pg_config")).FirstOrDefault(File.Exists);
        if (pgConfig is null)
        {
            yield break;
        }
        string? bindir;
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(pgConfig, "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            bindir = process?.StandardOutput.ReadToEnd().Trim();
            process?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            bindir = null;
        }
        if (!string.IsNullOrEmpty(bindir))
        {
            yield return bindir;
        }
    }

    private static IEnumerable<string> FromPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    private static IEnumerable<string> FromDebianLayout()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return [];
        }
        return Directory.GetDirectories(root)
            .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0))
            .OrderByDescending(x => x.version)
            .Select(x => Path.Combine(x.dir, "bin"));
    }
}
