namespace Relay.Client;

/// <summary>Where a topic resumes: the watermark the client has been brought up to, and the epoch it belongs to.</summary>
/// <param name="Watermark">The last watermark applied; 0 for the start of the journal.</param>
/// <param name="Epoch">
/// The topic's epoch that watermark belongs to (from <c>Subscribed</c> or a heartbeat); empty when not known yet, and
/// then not checked. A restored database has another epoch, so the relay answers <c>STALE_CURSOR</c> instead of
/// letting the client resume past documents the restore changed.
/// </param>
public readonly record struct ResumePoint(long Watermark, string Epoch = "")
{
    /// <summary>The start of the journal, of no particular epoch.</summary>
    public static ResumePoint Start { get; } = new(0);
}
