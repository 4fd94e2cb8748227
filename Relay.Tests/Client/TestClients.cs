using Relay.Client;

namespace Relay.Tests.Client;

/// <summary>Relay clients for tests: a test token, short reconnect delays, and a wait for a topic's head.</summary>
public static class TestClients
{
    public static RelayClient Create(
        RelayServerHarness relay, IWatermarkStore? store = null, DocumentCache? cache = null, bool json = false, Func<string>? token = null) =>
        new(new RelayClientOptions
        {
            Url = relay.Http,
            TokenProvider = _ => ValueTask.FromResult(token is null ? RelayServerHarness.Token() : token()),
            WatermarkStore = store ?? new InMemoryWatermarkStore(),
            Cache = cache ?? new DocumentCache(),
            UseJson = json,
            InitialReconnectDelay = TimeSpan.FromMilliseconds(200),
            MaxReconnectDelay = TimeSpan.FromSeconds(2),
        });

    /// <summary>Starts a client following <paramref name="topics"/>.</summary>
    public static async Task<RelayClient> StartAsync(RelayServerHarness relay, IReadOnlyList<string> topics, IWatermarkStore? store = null, bool json = false)
    {
        var client = Create(relay, store, json: json);
        await client.SubscribeAsync(topics);
        client.Start();
        return client;
    }

    /// <summary>
    /// Runs a client on <paramref name="store"/> and <paramref name="cache"/> until it has caught up with
    /// <paramref name="topic"/>, then disposes it: the saved state a later client starts from.
    /// </summary>
    public static async Task CatchUpOnceAsync(RelayServerHarness relay, IWatermarkStore store, DocumentCache cache, string topic)
    {
        await using var client = Create(relay, store, cache);
        await client.SubscribeAsync([topic]);
        client.Start();
        await client.CaughtUpAsync(topic);
    }

    /// <summary>Waits until the client has been brought up to each topic's head.</summary>
    public static async Task CaughtUpAsync(this RelayClient client, params string[] topics)
    {
        var heads = new Dictionary<string, long>();
        foreach (var topic in topics)
        {
            heads[topic] = await Sql.ScalarAsync<long>("SELECT relay.head($1)", topic);
        }
        await Eventually.ThatAsync(
            () => heads.All(head => client.Watermark(head.Key) >= head.Value),
            $"the client to reach {string.Join(", ", heads.Select(h => $"{h.Key}@{h.Value}"))}");
    }

    /// <summary>Asserts that the client's cache of each topic, tombstones included, equals the read model.</summary>
    public static async Task AssertMatchesReadModelAsync(this RelayClient client, params string[] topics)
    {
        foreach (var topic in topics)
        {
            Assert.That(client.Documents(topic).Values, Has.None.Matches<CachedDocument>(document => document!.Deleted), $"{topic}: a deleted document is listed");
            var differences = await ReadModel.DifferencesAsync(client.Cache.Entries(topic), topic);
            Assert.That(differences, Is.Empty, $"{topic}: {string.Join("; ", differences.Take(10))}");
        }
    }
}
