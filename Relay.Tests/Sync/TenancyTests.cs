using System.Net;
using System.Text.Json;

namespace Relay.Tests.Sync;

/// <summary>Two organisations publish to one topic: each client receives exactly its own documents, whatever the path.</summary>
public sealed class TenancyTests
{
    [Test]
    public async Task TwoOrganisations_eachReceivesOnlyItsOwnDocuments_throughReplayLiveAndHttp()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync(requireOrg: true);
        const string Publish = "SELECT relay.publish($1, $1 || ':' || $2 || ':' || i, jsonb_build_object('org', $2::text), $2) FROM generate_series(1, 5) i";
        await Sql.ExecuteAsync(Publish, topic, "org-a");
        await Sql.ExecuteAsync(Publish, topic, "org-b");
        await using var a = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(org: "org-a"));
        await using var b = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(org: "org-b"));

        await a.SubscribeAsync(topic);
        await b.SubscribeAsync(topic);
        var replayA = await a.UpdatesThroughAsync(topic, 10);
        var replayB = await b.UpdatesThroughAsync(topic, 10);
        await Sql.ExecuteAsync(Publish.Replace("generate_series(1, 5)", "generate_series(6, 7)"), topic, "org-b");
        await Sql.ExecuteAsync(Publish.Replace("generate_series(1, 5)", "generate_series(6, 7)"), topic, "org-a");
        var liveA = await a.UpdatesThroughAsync(topic, 14);
        // 13 and 14 are org-a's: org-b's cursor passes them in heartbeats, not in update batches.
        var liveB = await b.UpdatesThroughAsync(topic, 12);

        Assert.That(replayA.Concat(liveA).Select(u => u.DocKey), Has.All.Contains(":org-a:"));
        Assert.That(replayB.Concat(liveB).Select(u => u.DocKey), Has.All.Contains(":org-b:"));
        Assert.That((replayA.Count + liveA.Count, replayB.Count + liveB.Count), Is.EqualTo((7, 7)));

        using var httpA = relay.HttpClient(RelayServerHarness.Token(org: "org-a"));
        using var page = JsonDocument.Parse(await httpA.GetStringAsync($"/sync/v1/list/{topic}?limit=500"));
        var listed = page.RootElement.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("docKey").GetString()).ToList();
        Assert.That(listed, Has.Count.EqualTo(7).And.All.Contains(":org-a:"));
        Assert.That((await httpA.GetAsync($"/sync/v1/doc/{Uri.EscapeDataString($"{topic}:org-a:1")}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await httpA.GetAsync($"/sync/v1/doc/{Uri.EscapeDataString($"{topic}:org-b:1")}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound),
            "another organisation's document does not exist, as far as this client can tell");
    }

    [Test]
    public async Task GlobalDocuments_ofATopicWithoutOrganisations_reachEveryOrganisation()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        var topic = await TestTopics.CreateAsync(requireOrg: false);
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':global', '{}')", topic);
        await using var client = await WsClient.ConnectAsync(relay, token: RelayServerHarness.Token(org: "org-z"));

        await client.SubscribeAsync(topic);

        Assert.That((await client.UpdatesThroughAsync(topic, 1)).Select(u => u.DocKey), Is.EqualTo(new[] { $"{topic}:global" }));
    }

    [Test]
    public async Task Http_withoutToken_is401_andOutsideScopes_is403()
    {
        await using var relay = await RelayServerHarness.StartAsync();
        using var anonymous = relay.HttpClient();
        using var narrow = relay.HttpClient(RelayServerHarness.Token(scopes: "runtime.run_summaries"));

        Assert.That((await anonymous.GetAsync("/sync/v1/list/runtime.run_summaries")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await narrow.GetAsync("/sync/v1/list/runtime.notifications")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
