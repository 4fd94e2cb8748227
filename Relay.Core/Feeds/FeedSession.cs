namespace Relay.Core.Feeds;

/// <summary>One connection of a feed, from the moment the logs are level with the database until it fails.</summary>
public abstract class FeedSession : IAsyncDisposable
{
    /// <summary>Appends what the journal receives to the topic logs until the connection fails or is cancelled.</summary>
    public abstract Task FollowAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}
