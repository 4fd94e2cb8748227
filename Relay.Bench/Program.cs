using BenchmarkDotNet.Running;
using Relay.Bench.E2E;

namespace Relay.Bench;

/// <summary>
/// Benchmarks. <c>e2e &lt;scenario&gt; [--quick]</c> runs an end-to-end scenario against a real PostgreSQL; anything else
/// goes to BenchmarkDotNet (<c>--filter *</c>).
/// </summary>
public static class Program
{
    /// <summary>Runs the scenario or micro benchmarks named on the command line.</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["e2e", var scenario, .. var options])
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
            return 0;
        }
        var duration = options.Contains("--quick") ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        IReadOnlyList<ScenarioRow> rows = scenario switch
        {
            "publish" => await PublishScenario.RunAsync(duration),
            "feed" => await FeedScenario.RunAsync(duration),
            "ws" => await WsScenario.RunAsync(duration, options.Contains("--quick")),
            "catchup" => await CatchupScenario.RunAsync(options.Contains("--quick")),
            "slow" => await SlowScenario.RunAsync(duration, options.Contains("--quick")),
            _ => throw new ArgumentException($"unknown scenario '{scenario}'; known: publish, feed, ws, catchup, slow"),
        };
        Console.WriteLine();
        Console.WriteLine($"e2e {scenario} on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}:");
        Console.WriteLine(ScenarioRow.ToMarkdown(rows));
        return 0;
    }
}
