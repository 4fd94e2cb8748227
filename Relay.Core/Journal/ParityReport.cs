namespace Relay.Core.Journal;

/// <summary>The counts of a <see cref="ParityAudit"/>.</summary>
public sealed record ParityReport
{
    /// <summary>Documents in the export (well-formed lines).</summary>
    public int Exported { get; init; }

    /// <summary>Live documents in the relay within the compared scope.</summary>
    public int InRelay { get; init; }

    /// <summary>Same version, same canonical payload.</summary>
    public int Matching { get; init; }

    /// <summary>Present in both with different versions.</summary>
    public int VersionMismatches { get; init; }

    /// <summary>Same version, different canonical payload.</summary>
    public int PayloadMismatches { get; init; }

    /// <summary>In the export, not live in the relay.</summary>
    public int MissingFromRelay { get; init; }

    /// <summary>Live in the relay, not in the export.</summary>
    public int MissingFromExport { get; init; }

    /// <summary>Lines that are not a document, or repeat a doc_key.</summary>
    public int Malformed { get; init; }

    /// <summary>True when nothing differs.</summary>
    public bool Agrees => VersionMismatches + PayloadMismatches + MissingFromRelay + MissingFromExport + Malformed == 0;

    /// <summary>The summary line.</summary>
    public override string ToString() =>
        $"compare: {Exported} documents in the export, {InRelay} in the relay; {Matching} match, {VersionMismatches} differ in version, " +
        $"{PayloadMismatches} differ in payload, {MissingFromRelay} missing from the relay, {MissingFromExport} missing from the export, " +
        $"{Malformed} malformed lines";
}
