namespace Relay.Core.Journal;

/// <summary>A topic's row of <c>relay.topics</c> as the relay needs it.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Head">The last allocated watermark (0 before the first).</param>
/// <param name="RetainedAfter">Every watermark up to this one may have been pruned (0: nothing pruned).</param>
/// <param name="Epoch">The topic's epoch: changed by <c>relay.reset_epoch</c> after a restore or a move.</param>
public readonly record struct TopicState(string Topic, long Head, long RetainedAfter, string Epoch);
