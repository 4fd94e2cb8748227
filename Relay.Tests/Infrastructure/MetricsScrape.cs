using System.Globalization;

namespace Relay.Tests;

/// <summary>The Prometheus text format: <c># TYPE name type</c> lines and <c>name{labels} value</c> samples.</summary>
public sealed record MetricsScrape(Dictionary<string, string> Types, Dictionary<string, double> Samples)
{
    public static MetricsScrape Parse(string text)
    {
        var types = new Dictionary<string, string>();
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
            }
            else if (!line.StartsWith('#'))
            {
                var space = line.LastIndexOf(' ');
                samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return new MetricsScrape(types, samples);
    }

    public double? Value(string name, string? topic = null) =>
        Samples.TryGetValue(topic is null ? name : $"{name}{{topic=\"{topic}\"}}", out var value) ? value : null;
}
