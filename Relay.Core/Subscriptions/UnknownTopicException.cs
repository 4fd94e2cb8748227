namespace Relay.Core.Subscriptions;

/// <summary>The topic does not exist in <c>relay.topics</c>.</summary>
public sealed class UnknownTopicException(string topic) : Exception($"unknown topic '{topic}'")
{
    /// <summary>The topic asked for.</summary>
    public string Topic { get; } = topic;
}
