using System.Text;

namespace Relay.Bench.E2E;

/// <summary>Realistic documents for the scenarios: a run summary of about 1 KB.</summary>
internal static class Documents
{
    public static string RunSummary(int run, int revision)
    {
        var steps = new StringBuilder();
        for (var i = 0; i < 10; i++)
        {
            steps.Append(i == 0 ? "" : ",")
                .Append($$"""{"name":"step-{{i}}","status":"{{(i < revision % 10 ? "done" : "pending")}}","duration_ms":{{i * 137 + revision}}}""");
        }
        return $$"""
            {"run_id":"run-{{run}}","revision":{{revision}},"status":"running","owner":{"id":"user-{{run % 97}}","name":"Ada Lovelace"},
             "started_at":"2026-11-22T10:00:00Z","cost":{{revision * 0.125}},"tokens":{"input":{{revision * 1000}},"output":{{revision * 250}}},
             "labels":["bench","relay","e2e"],"steps":[{{steps}}]}
            """;
    }
}
