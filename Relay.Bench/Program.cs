using BenchmarkDotNet.Running;

namespace Relay.Bench;

/// <summary>Benchmark entry point: <c>dotnet run -c Release --project Relay.Bench -- --filter *</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks named on the command line.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
