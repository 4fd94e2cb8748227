namespace Relay.Bench.E2E;

/// <summary>One row of a scenario's report: a name and its measured columns, in order.</summary>
internal sealed record ScenarioRow(string Name, IReadOnlyList<(string Column, string Value)> Values)
{
    /// <summary>Prints rows as a Markdown table.</summary>
    public static string ToMarkdown(IReadOnlyList<ScenarioRow> rows)
    {
        var columns = rows[0].Values.Select(v => v.Column).ToList();
        var lines = new List<string>
        {
            "| workload | " + string.Join(" | ", columns) + " |",
            "|---|" + string.Concat(columns.Select(_ => "---:|")),
        };
        lines.AddRange(rows.Select(row => $"| {row.Name} | " + string.Join(" | ", row.Values.Select(v => v.Value)) + " |"));
        return string.Join(Environment.NewLine, lines);
    }
}
