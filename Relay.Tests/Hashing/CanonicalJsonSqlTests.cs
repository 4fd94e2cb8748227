using Npgsql;

namespace Relay.Tests.Hashing;

/// <summary>
/// relay.canonical_json and relay.payload_hash, as the publish path runs them inside PostgreSQL, against the same
/// fixtures as the C# and TypeScript implementations.
/// </summary>
public sealed class CanonicalJsonSqlTests
{
    public static IEnumerable<TestCaseData> Cases() => CanonicalJsonTests.Cases();

    public static IEnumerable<TestCaseData> InvalidCases() => CanonicalJsonTests.InvalidCases();

    [TestCaseSource(nameof(Cases))]
    public async Task CanonicalJson_fixtureCase_givesCanonicalTextAndDigest(string json, string canonical, string sha256)
    {
        var row = (await Sql.RowsAsync("SELECT relay.canonical_json($1::jsonb), encode(relay.payload_hash($1::jsonb), 'hex')", json)).Single();

        Assert.That(row, Is.EqualTo(new object?[] { canonical, sha256 }));
    }

    [TestCaseSource(nameof(InvalidCases))]
    public async Task CanonicalJson_invalidFixture_isRefused(string json)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync("SELECT relay.canonical_json($1::jsonb)", json));

        // Either jsonb itself refuses the text (invalid JSON, lone surrogates) or the number is beyond a double: RL002.
        Assert.That(error!.SqlState, Is.AnyOf("RL002", "22P02", "22P05", "22023"), error.MessageText);
    }

    [Test]
    public async Task Publish_numberBeyondADouble_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync();

        await Sql.FailsAsync("RL002", "SELECT relay.publish($1, $1 || ':d', '{\"n\": 1e400}')", topic);
    }

    [Test]
    public async Task Publish_numberJustBeyondADouble_raisesRL002()
    {
        var topic = await TestTopics.CreateAsync();

        await Sql.FailsAsync("RL002", "SELECT relay.publish($1, $1 || ':d', '{\"n\": 1.8e308}')", topic);
    }

    // check_payload sends every payload whose printed text holds a run of 255 digits to the exact test: these hold one
    // and are valid, so they must still be published.
    [TestCase("{\"n\": 1e300}", TestName = "Publish_numberOf301DigitsWithinADouble_isPublished")]
    [TestCase("{\"n\": 1e-400}", TestName = "Publish_numberTooSmallForADouble_isPublished")]
    [TestCase("{\"s\": \"1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890\"}",
        TestName = "Publish_stringOf300Digits_isPublished")]
    public async Task Publish_payloadWithALongRunOfDigits_isPublished(string payload)
    {
        var topic = await TestTopics.CreateAsync();

        var watermark = await Sql.ScalarAsync<long>("SELECT watermark FROM relay.publish($1, $1 || ':d', $2::jsonb)", topic, payload);

        Assert.That(watermark, Is.EqualTo(1));
    }

    [Test]
    public async Task Publish_theHashTheRelayReadsBack_isTheCSharpHashOfWhatWasPublished_andWhatDbasCompute()
    {
        var topic = await TestTopics.CreateAsync();
        const string Payload = """{"b":[1.5,-0,1e21,155627012252807600],"a":"é\n","€":{}}""";

        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':d', $2::jsonb)", topic, Payload);

        var read = (await new Relay.Core.Journal.JournalReader(TestDatabase.DataSource).ReadAsync(topic, 0, 1, 1, int.MaxValue)).Single();
        var expected = Relay.Protocol.Hashing.PayloadHash.Compute(System.Text.Encoding.UTF8.GetBytes(Payload));
        Assert.That(read.PayloadHash, Is.EqualTo(expected), "computed by the relay as it reads the journal");
        Assert.That(await Sql.ScalarAsync<byte[]>("SELECT relay.payload_hash(payload) FROM relay.stream_events WHERE topic = $1", topic),
            Is.EqualTo(expected), "the DBA's on-demand function");
    }
}
