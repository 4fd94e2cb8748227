using Relay.Core.Provisioning;

namespace Relay.Bench.Chaos;

/// <summary>
/// The <c>chaos</c> verb: parses its options, runs <see cref="ChaosScenario"/>, prints the report and every mismatch on
/// a line of its own, and writes docs/RELIABILITY.md on full runs and soaks. Exit code 1 on any loss, mismatch or
/// reorder, or when the run could not be set up (one line saying why).
/// </summary>
internal static class ChaosCommand
{
    private const int MismatchesPrinted = 50;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        ChaosReport report;
        try
        {
            report = await ChaosScenario.RunAsync(ChaosOptions.Parse(args));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ProvisioningException)
        {
            Console.Error.WriteLine($"chaos: {e.Message}");
            return 1;
        }
        var markdown = report.ToMarkdown();
        Console.WriteLine();
        Console.WriteLine(markdown);
        foreach (var mismatch in report.Mismatches.Take(MismatchesPrinted))
        {
            Console.WriteLine($"MISMATCH {mismatch}");
        }
        if (report.Mismatches.Count > MismatchesPrinted)
        {
            Console.WriteLine($"… and {report.Mismatches.Count - MismatchesPrinted} more");
        }
        if (report.Options.WritesReport)
        {
            var path = Path.Combine(RepositoryRoot(), "docs", "RELIABILITY.md");
            await File.WriteAllTextAsync(path, markdown);
            Console.WriteLine($"wrote {path}");
        }
        Console.WriteLine(report.Mismatches.Count == 0 ? "chaos: no loss, no mismatch, no reorder" : $"chaos: {report.Mismatches.Count} mismatches");
        return report.Mismatches.Count == 0 ? 0 : 1;
    }

    /// <summary>The folder holding relay.sln at or above the current one (the current one when there is none).</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "relay.sln")))
            {
                return directory.FullName;
            }
        }
        return Environment.CurrentDirectory;
    }
}
