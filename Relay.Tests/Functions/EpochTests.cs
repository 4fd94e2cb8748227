namespace Relay.Tests.Functions;

/// <summary>Topic epochs (CONTRACT §3): set at creation, changed only by the DBA step after a restore or a move.</summary>
public sealed class EpochTests
{
    [Test]
    public async Task CreateTopic_givesEachTopicItsOwnEpoch_andKeepsItWhenRunAgain()
    {
        var first = await TestTopics.CreateAsync();
        var second = await TestTopics.CreateAsync();
        var before = await EpochAsync(first);

        await Sql.ExecuteAsync("SELECT relay.create_topic($1, 'pointer')", first);

        Assert.That(before, Is.Not.Empty.And.Not.EqualTo(await EpochAsync(second)));
        Assert.That(await EpochAsync(first), Is.EqualTo(before));
    }

    [Test]
    public async Task ResetEpoch_ofOneTopic_changesOnlyThatTopicsEpoch()
    {
        var reset = await TestTopics.CreateAsync();
        var other = await TestTopics.CreateAsync();
        var (resetBefore, otherBefore) = (await EpochAsync(reset), await EpochAsync(other));

        var returned = await Sql.RowsAsync("SELECT topic, epoch FROM relay.reset_epoch($1)", reset);

        Assert.That(returned.Single(), Is.EqualTo(new object?[] { reset, await EpochAsync(reset) }));
        Assert.That(await EpochAsync(reset), Is.Not.EqualTo(resetBefore));
        Assert.That(await EpochAsync(other), Is.EqualTo(otherBefore));
    }

    [Test]
    public async Task ResetEpoch_ofAnUnknownTopic_raisesRL001() =>
        await Sql.FailsAsync("RL001", "SELECT * FROM relay.reset_epoch('test.no_such_topic')");

    private static async Task<string> EpochAsync(string topic) =>
        (await Sql.ScalarAsync<string>("SELECT epoch FROM relay.topics WHERE topic = $1", topic))!;
}
