namespace Relay.Protocol;

/// <summary>
/// The names of the v1 topics, as the <c>topic_name</c> option of the proto <c>Topic</c> enum gives them.
/// </summary>
public static class Topics
{
    /// <summary>Run summaries of the runtime.</summary>
    public const string RunSummaries = "runtime.run_summaries";

    /// <summary>Codex worker summaries of the runtime.</summary>
    public const string CodexWorkerSummaries = "runtime.codex_worker_summaries";

    /// <summary>User notifications.</summary>
    public const string Notifications = "runtime.notifications";

    /// <summary>Every v1 topic, in the order of the proto enum.</summary>
    public static IReadOnlyList<string> V1 { get; } = [RunSummaries, CodexWorkerSummaries, Notifications];
}
