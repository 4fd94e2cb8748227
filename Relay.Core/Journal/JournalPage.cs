namespace Relay.Core.Journal;

/// <summary>A page of journal events read in watermark order.</summary>
/// <param name="Events">The events.</param>
/// <param name="MayHaveMore">
/// The page stopped at its event limit or its byte bound, so more events may follow it; false when it holds every event
/// of the range that was read.
/// </param>
public sealed record JournalPage(List<JournalEvent> Events, bool MayHaveMore);
