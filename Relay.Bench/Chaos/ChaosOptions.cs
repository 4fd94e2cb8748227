using System.Globalization;

namespace Relay.Bench.Chaos;

/// <summary>
/// The chaos run's settings, from <c>chaos [--quick|--soak] [--nodes N] [--seed S] [--minutes M]</c>: <c>--quick</c> injects each
/// fault once (CI), a full run cycles the faults for 2 minutes, <c>--soak</c> for 30.
/// </summary>
internal sealed record ChaosOptions(string Mode, int Nodes, int Seed, TimeSpan Duration, int Clients, int Writers)
{
    /// <summary>Whether the run writes docs/RELIABILITY.md: full runs and soaks do, <c>--quick</c> only prints.</summary>
    public bool WritesReport => Mode != "quick";

    /// <summary>The command line that reproduces this run.</summary>
    public string Command =>
        $"dotnet run -c Release --project Relay.Bench -- chaos{(Mode == "full" ? "" : " --" + Mode)} --nodes {Nodes} --seed {Seed}"
        + (Duration == Default(Mode) ? "" : $" --minutes {Duration.TotalMinutes.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Parses the options after <c>chaos</c>; throws <see cref="ArgumentException"/> with a one-line message on bad input.</summary>
    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        var mode = "full";
        int? nodes = null;
        var seed = Random.Shared.Next(1, 1_000_000);
        TimeSpan? duration = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick" or "--soak":
                    mode = args[i][2..];
                    break;
                case "--nodes":
                    nodes = Number(args, ++i, "--nodes", 1, 8);
                    break;
                case "--seed":
                    seed = Number(args, ++i, "--seed", 0, int.MaxValue);
                    break;
                case "--minutes":
                    duration = TimeSpan.FromMinutes(Number(args, ++i, "--minutes", 1, 24 * 60));
                    break;
                default:
                    throw new ArgumentException($"unknown chaos option '{args[i]}'; known: --quick, --soak, --nodes N, --seed S, --minutes M");
            }
        }
        var quick = mode == "quick";
        return new ChaosOptions(mode, nodes ?? (quick ? 2 : 3), seed, duration ?? Default(mode), Clients: quick ? 10 : 24, Writers: quick ? 3 : 6);
    }

    private static TimeSpan Default(string mode) => mode switch
    {
        "quick" => TimeSpan.Zero,
        "soak" => TimeSpan.FromMinutes(30),
        _ => TimeSpan.FromMinutes(2),
    };

    private static int Number(IReadOnlyList<string> args, int index, string option, int min, int max) =>
        index < args.Count && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{option} needs a whole number from {min} to {max}");
}
