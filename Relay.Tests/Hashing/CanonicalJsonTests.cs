using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Relay.Protocol.Hashing;

namespace Relay.Tests.Hashing;

/// <summary>
/// <see cref="CanonicalJson"/> and <see cref="PayloadHash"/> against the shared fixtures in
/// fixtures/jcs, which the SQL functions and the TypeScript client are tested against too.
/// </summary>
public sealed class CanonicalJsonTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        ReadFixture("cases.json").Select(c => new TestCaseData(c.GetProperty("json").GetString(), c.GetProperty("canonical").GetString(), c.GetProperty("sha256").GetString())
            .SetArgDisplayNames(c.GetProperty("name").GetString()!));

    public static IEnumerable<TestCaseData> InvalidCases() =>
        ReadFixture("invalid.json").Select(c => new TestCaseData(c.GetProperty("json").GetString())
            .SetArgDisplayNames(c.GetProperty("name").GetString()!));

    [TestCaseSource(nameof(Cases))]
    public void Canonicalize_FixtureCase_GivesCanonicalTextAndDigest(string json, string canonical, string sha256)
    {
        var input = Encoding.UTF8.GetBytes(json);

        var text = Encoding.UTF8.GetString(CanonicalJson.Canonicalize(input));
        var digest = Convert.ToHexStringLower(PayloadHash.Compute(input));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(text, Is.EqualTo(canonical));
            Assert.That(digest, Is.EqualTo(sha256));
        }
    }

    [TestCaseSource(nameof(InvalidCases))]
    public void Canonicalize_InvalidFixture_ThrowsCanonicalJsonException(string json)
    {
        var input = Encoding.UTF8.GetBytes(json);

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize(input));
    }

    [Test]
    public void Canonicalize_InvalidUtf8_ThrowsCanonicalJsonException()
    {
        byte[] input = [(byte)'"', 0xC3, (byte)'"'];

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize(input));
    }

    [Test]
    public void Canonicalize_NumberOutOfRange_SaysSo()
    {
        Assert.That(
            () => CanonicalJson.Canonicalize("[1e400]"u8),
            Throws.TypeOf<CanonicalJsonException>().With.Message.StartsWith("Number out of range for canonical JSON: 1e400"));
    }

    [Test]
    public void Canonicalize_NestingAtMaxDepth_IsAccepted()
    {
        var input = Encoding.UTF8.GetBytes(new string('[', CanonicalJson.MaxDepth) + new string(']', CanonicalJson.MaxDepth));

        Assert.That(CanonicalJson.Canonicalize(input), Is.EqualTo(input));
    }

    [Test]
    public void Canonicalize_NestingBeyondMaxDepth_ThrowsCanonicalJsonException()
    {
        var depth = CanonicalJson.MaxDepth + 1;
        var input = Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize(input));
    }

    [Test]
    public void Canonicalize_BufferWriter_AppendsAfterExistingContent()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("x"u8);

        CanonicalJson.Canonicalize("{ \"b\": 1, \"a\": [true] }"u8, output);

        Assert.That(Encoding.UTF8.GetString(output.WrittenSpan), Is.EqualTo("x{\"a\":[true],\"b\":1}"));
    }

    [Test]
    public void Canonicalize_RefusedInput_WritesNothing()
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize("[1, 1e999]"u8, output));
        Assert.That(output.WrittenCount, Is.Zero);
    }

    [Test]
    public void Compute_IntoSpan_WritesSha256OfCanonicalText()
    {
        Span<byte> destination = stackalloc byte[PayloadHash.Length];

        var written = PayloadHash.Compute("{\"b\":2,\"a\":1}"u8, destination);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(written, Is.EqualTo(32));
            Assert.That(destination.ToArray(), Is.EqualTo(SHA256.HashData("{\"a\":1,\"b\":2}"u8)));
        }
    }

    [Test]
    public void Compute_DestinationTooShort_ThrowsArgumentException()
    {
        var destination = new byte[PayloadHash.Length - 1];

        Assert.Throws<ArgumentException>(() => PayloadHash.Compute("{}"u8, destination));
    }

    private static JsonElement[] ReadFixture(string file)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "jcs", file);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.EnumerateArray().Select(c => c.Clone()).ToArray();
    }
}
