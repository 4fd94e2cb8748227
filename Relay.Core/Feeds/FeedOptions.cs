using System.ComponentModel.DataAnnotations;

namespace Relay.Core.Feeds;

/// <summary>How the relay tails the journal (configuration section <c>Relay</c>).</summary>
public sealed class FeedOptions : IValidatableObject
{
    /// <summary>The publication the replication feed decodes (created by the migrations).</summary>
    public const string Publication = "relay_journal";

    /// <summary>The channel of the journal's NOTIFY wake-ups (see <c>relay.topics.notify</c>).</summary>
    public const string NotifyChannel = "relay_journal";

    /// <summary>First delay before reconnecting after a failure; doubles with jitter up to <see cref="MaxReconnectDelay"/>. Default 100 ms; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between reconnection attempts. Default 10 s; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the replication feed confirms its position while the database is idle. Default 10 s; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan IdleAcknowledgeInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The notify feed's safety net: how often it compares every topic's head with its log, in case a wake-up was lost. Default 1 s; between 1 ms and 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan NotifyPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most events the notify feed reads per query. Default 1,000; between 1 and 100,000.</summary>
    [Range(1, 100_000)]
    public int NotifyReadBatch { get; set; } = 1000;

    /// <summary>The checks across settings: the first reconnect delay is not longer than the longest.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ReconnectDelay > MaxReconnectDelay)
        {
            yield return new ValidationResult(
                $"ReconnectDelay ({ReconnectDelay}) is longer than MaxReconnectDelay ({MaxReconnectDelay}): lower the first or raise the second",
                [nameof(ReconnectDelay), nameof(MaxReconnectDelay)]);
        }
    }
}
