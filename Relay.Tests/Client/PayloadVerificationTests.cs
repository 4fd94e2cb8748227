using Relay.Client;

namespace Relay.Tests.Client;

/// <summary>The C# client checks every payload against its payload_hash with the relay's canonical hasher.</summary>
public sealed class PayloadVerificationTests
{
    [Test]
    public async Task Client_journalHashDamaged_reportsTheMismatch_andAppliesNothingOfIt()
    {
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "good", 1, 1);
        await RelayClientTests.PublishAsync(topic, "bad", 1, 1);
        // A relay started after the damage reads the event from the journal, not from a log filled by the feed.
        await Sql.ExecuteAsync("UPDATE relay.stream_events SET payload_hash = sha256('not the payload') WHERE topic = $1 AND doc_key = $2", topic, $"{topic}:bad1");
        await using var relay = await RelayServerHarness.StartAsync();
        var failures = new List<Exception>();
        await using var client = TestClients.Create(relay);
        client.ConnectionFailed += e => { lock (failures) { failures.Add(e); } };
        await client.SubscribeAsync([topic]);
        client.Start();

        await Eventually.ThatAsync(() => { lock (failures) { return failures.Count > 0; } }, "the client to report the mismatch");

        lock (failures)
        {
            Assert.That(failures[0], Is.InstanceOf<PayloadHashMismatchException>().With.Property(nameof(PayloadHashMismatchException.DocKey)).EqualTo($"{topic}:bad1"));
        }
        Assert.That(client.Documents(topic).Keys, Does.Not.Contain($"{topic}:bad1"));
        Assert.That(client.Watermark(topic), Is.LessThan(2), "the damaged event's watermark is not stored");
    }

    [Test]
    public async Task Hydrate_documentHashDamaged_throws_andLeavesTheCacheAsItWas()
    {
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 2);
        await Sql.ExecuteAsync("UPDATE relay.documents SET payload_hash = sha256('not the payload') WHERE topic = $1 AND doc_key = $2", topic, $"{topic}:doc2");
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = TestClients.Create(relay);

        Assert.That(async () => await client.HydrateAsync(topic),
            Throws.InstanceOf<PayloadHashMismatchException>().With.Message.Contains($"{topic}:doc2"));
        Assert.That(client.Documents(topic), Is.Empty);
    }

    [Test]
    public async Task Hydrate_intactDocuments_areAccepted()
    {
        var topic = await TestTopics.CreateAsync();
        await RelayClientTests.PublishAsync(topic, "doc", 1, 3);
        await using var relay = await RelayServerHarness.StartAsync();
        await using var client = TestClients.Create(relay);

        await client.HydrateAsync(topic);

        Assert.That(client.Documents(topic), Has.Count.EqualTo(3));
    }
}
