namespace Relay.Protocol;

/// <summary>The SQLSTATEs the <c>relay</c> schema's functions raise (docs/sql.md, "Errors").</summary>
public static class RelaySqlStates
{
    /// <summary><c>RL001</c>: unknown topic.</summary>
    public const string UnknownTopic = "RL001";

    /// <summary><c>RL002</c>: invalid argument (a malformed topic name or doc_key, a missing org_id, …).</summary>
    public const string InvalidArgument = "RL002";

    /// <summary><c>RL003</c>: a doc_version lower than the document's current one.</summary>
    public const string VersionRegression = "RL003";

    /// <summary><c>RL004</c>: the current doc_version again with another payload.</summary>
    public const string VersionConflict = "RL004";

    /// <summary><c>RL005</c>: a canonical payload larger than the topic's <c>max_payload_bytes</c>.</summary>
    public const string PayloadTooLarge = "RL005";

    /// <summary><c>RL006</c>: <c>TRUNCATE</c> of an attached table.</summary>
    public const string TruncateRefused = "RL006";
}
