using Microsoft.Extensions.Logging.Abstractions;
using Relay.Core.Diagnostics;
using Relay.Core.Journal;
using Relay.Core.Subscriptions;
using Relay.Core.Tenancy;
using Relay.Core.Topics;

namespace Relay.Tests.Feeds;

/// <summary>Shared reads of pointer documents run under their own lifetime; every waiter learns how they ended.</summary>
public sealed class PointerResolverTests
{
    private static async Task<(CoreHarness Relay, TopicLog Log, List<JournalEvent> Events, BlockedReads Blocker)> BlockedReadOfOneDocumentAsync(string table, string topic)
    {
        await Sql.ExecuteAsync($$"""INSERT INTO {{table}} VALUES ('k', 'org-1', 1, '{"v": 1}')""");
        var relay = await CoreHarness.StartAsync();
        await relay.WaitForDatabaseHeadAsync(topic);
        var events = await relay.Journal.ReadAsync(topic, 0, 1, 10, int.MaxValue);
        return (relay, relay.Logs.Find(topic)!, events, await BlockedReads.LockAsync(table));
    }

    [Test]
    public async Task SharedRead_theCallerThatStartedItGivesUp_theOthersStillGetTheDocument()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        var (relay, log, events, blocker) = await BlockedReadOfOneDocumentAsync(table, topic);
        await using var _ = relay;
        using var first = new CancellationTokenSource();

        var starter = relay.Resolver.ResolveAsync(log, events, first.Token);
        var joiner = relay.Resolver.ResolveAsync(log, events);
        await blocker.WaitForBlockedReadAsync();
        await first.CancelAsync();
        Assert.That(async () => await starter, Throws.InstanceOf<OperationCanceledException>());
        await blocker.DisposeAsync();

        Assert.That(System.Text.Encoding.UTF8.GetString((await joiner).Single().Payload!), Is.EqualTo("""{"v": 1}"""));
    }

    [Test]
    public async Task SharedRead_killedMidFlight_everyWaiterGetsDatabaseUnavailable()
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        var (relay, log, events, blocker) = await BlockedReadOfOneDocumentAsync(table, topic);
        await using var _ = relay;
        await using var __ = blocker;

        var waiters = new[] { relay.Resolver.ResolveAsync(log, events), relay.Resolver.ResolveAsync(log, events) };
        await blocker.WaitForBlockedReadAsync();
        await blocker.TerminateBlockedReadsAsync();

        foreach (var waiter in waiters)
        {
            Assert.That(async () => await waiter, Throws.InstanceOf<DatabaseUnavailableException>());
        }
    }

    /// <summary>
    /// A resolver that would wait 30 s for a commit it cannot see yet, and the attached topic's events: a document the
    /// test brings to <paramref name="state"/> after it was journaled at version 5.
    /// </summary>
    private static async Task<(CoreHarness Relay, PointerResolver Resolver, TopicLog Log, List<JournalEvent> Events)> DocumentJournaledThenAsync(string state)
    {
        var (topic, table) = await TestTopics.AttachNewTableAsync();
        await Sql.ExecuteAsync($$"""INSERT INTO {{table}} VALUES ('k', 'org-1', 5, '{"v": 5}')""");
        await Sql.ExecuteAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, state, table));
        var relay = await CoreHarness.StartAsync();
        await relay.WaitForDatabaseHeadAsync(topic);
        var events = await relay.Journal.ReadAsync(topic, 0, 1, 10, int.MaxValue);
        var resolver = new PointerResolver(relay.DataSource, 0) { VisibilityTimeout = TimeSpan.FromSeconds(30) };
        return (relay, resolver, relay.Logs.Find(topic)!, events);
    }

    [Test]
    public async Task Read_whoseCommitNeverBecomesVisible_failsAsUnavailable_neverAsATombstone()
    {
        var topic = await TestTopics.CreateAsync("pointer");
        await using var relay = await CoreHarness.StartAsync();
        await relay.WaitForDatabaseHeadAsync(topic);
        var log = relay.Logs.GetOrAdd(topic, 0);
        // An event the feed would hand over for a commit the database does not show (yet): its row is missing, and the
        // topic's head does not cover it.
        var unseen = new JournalEvent(topic, 1, "k", 1, null, null, null, false, DateTimeOffset.UtcNow);
        var resolver = new PointerResolver(relay.DataSource, 0) { VisibilityTimeout = TimeSpan.FromSeconds(2) };

        // Before, after a second the missing row was taken for a deletion: a tombstone for a document that exists
        // once the commit shows (a synchronous standby slower than that), which no later event corrected.
        Assert.That(async () => await resolver.ResolveAsync(log, [unseen]),
            Throws.TypeOf<DatabaseUnavailableException>().With.Message.Contains("still not visible"));
    }

    [Test]
    public async Task Read_ofADocumentDeletedSince_isATombstoneAtOnce_notAfterWaitingForItsCommit()
    {
        var (relay, resolver, log, events) = await DocumentJournaledThenAsync("DELETE FROM {0}");
        await using var _ = relay;

        var resolving = resolver.ResolveAsync(log, events);
        var finished = await Task.WhenAny(resolving, Task.Delay(TimeSpan.FromSeconds(15)));

        Assert.That(finished, Is.SameAs(resolving), "the event's commit is visible, so the missing row is final");
        Assert.That((await resolving).Single().Tombstone, Is.True);
    }

    [Test]
    public async Task Read_ofAKeyHandedToAnotherOrgAtALowerVersion_isTheRowAsItIs_notAFailure()
    {
        // Another organisation takes the key at version 1, below the event's 5 and its tombstone's 6.
        var (relay, resolver, log, events) = await DocumentJournaledThenAsync(
            """DELETE FROM {0}; INSERT INTO {0} VALUES ('k', 'org-2', 1, '{{"v": "B"}}')""");
        await using var _ = relay;

        var resolving = resolver.ResolveAsync(log, events);
        var finished = await Task.WhenAny(resolving, Task.Delay(TimeSpan.FromSeconds(15)));

        Assert.That(finished, Is.SameAs(resolving));
        var resolved = (await resolving).Single();
        Assert.That((resolved.DocVersion, resolved.OrgId), Is.EqualTo((1L, "org-2")));
        Assert.That(Audience.Of("org-1").Deliverable(events[0], resolved)?.Tombstone, Is.True, "the old owner is told the document is gone");
    }

    [Test]
    public async Task Cache_ofLargeDocuments_holdsNoMoreThanItsByteBudget_andReadsTheRestAgain()
    {
        var topic = await TestTopics.CreateAsync("pointer");
        // Ten documents of about 30 KB against a budget of 100 KB: a cache bounded by count alone would keep all ten.
        await Sql.ExecuteAsync(
            "SELECT relay.publish($1, 'doc-' || i, jsonb_build_object('i', i, 'fill', repeat('x', 30000))) FROM generate_series(1, 10) i", topic);
        await using var relay = await CoreHarness.StartAsync(options: new TopicLogOptions { PointerCacheBytes = 100_000 });
        await relay.WaitForDatabaseHeadAsync(topic);
        var log = relay.Logs.Find(topic)!;
        var events = await relay.Journal.ReadAsync(topic, 0, 10, 10, int.MaxValue);

        var first = await relay.Resolver.ResolveAsync(log, events);
        var cached = relay.Resolver.CachedBytes;
        var again = await relay.Resolver.ResolveAsync(log, events);

        Assert.That(cached, Is.InRange(30_000, 100_000), "the most recent reads stay, within the budget");
        Assert.That(again.Select(e => e.Payload!.Length), Is.EqualTo(first.Select(e => e.Payload!.Length)));
        Assert.That(again.Select(e => System.Text.Json.JsonDocument.Parse(e.Payload!).RootElement.GetProperty("i").GetInt32()),
            Is.EqualTo(Enumerable.Range(1, 10)), "documents let go of are read again, not lost");
        Assert.That(relay.Resolver.CachedBytes, Is.LessThanOrEqualTo(100_000));
    }

    [Test]
    public async Task Subscription_whileThisRelaysLogLagsTheDatabase_isNotCaughtUpBeforeTheHeadItWasToldOf()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':' || i, '{}') FROM generate_series(1, 2) i", topic);
        var journal = new JournalReader(TestDatabase.DataSource);
        using var metrics = new RelayMetrics();
        var options = new TopicLogOptions();
        var logs = new TopicLogs(journal, options, metrics, NullLogger<TopicLogs>.Instance);
        var events = await journal.ReadAsync(topic, 0, 2, 10, int.MaxValue);
        // The feed has handed over the first event only.
        await logs.AppendAsync([events[0]]);

        var subscriptions = new SubscriptionSource(logs, journal, new CatchUpReads(journal, 1), new PointerResolver(TestDatabase.DataSource, options.PointerCacheBytes), options, metrics);
        var subscription = await subscriptions.OpenAsync(topic, 0, null, Audience.Everyone);
        await using var reader = subscription.ReadAsync().GetAsyncEnumerator();
        Assert.That(await reader.MoveNextAsync(), Is.True);
        var first = reader.Current;
        await logs.AppendAsync([events[1]]);
        Assert.That(await reader.MoveNextAsync(), Is.True);
        var second = reader.Current;

        Assert.That((subscription.HeadAtOpen, first.Through, first.Phase), Is.EqualTo((2L, 1L, SubscriptionPhase.Replay)), "Subscribed said the head is 2");
        Assert.That((second.Through, second.Phase), Is.EqualTo((2L, SubscriptionPhase.CaughtUp)), "the batch that ends the replay says so");
    }
}
