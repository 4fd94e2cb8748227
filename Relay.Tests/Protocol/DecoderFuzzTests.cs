using System.Text;
using FsCheck;
using FsCheck.Fluent;
using OpenAgents.Sync.V1;
using Relay.Protocol;
using Relay.Protocol.Phoenix;

namespace Relay.Tests.Protocol;

/// <summary>
/// Property-based fuzzing (FsCheck) of the three client-frame decoders: whatever bytes a client sends, a decoder
/// returns a request or throws <see cref="ProtocolException"/>, never anything else; and what the encoders write, the
/// decoders read back unchanged.
/// </summary>
[TestFixture]
public sealed class DecoderFuzzTests
{
    private const int Runs = 2_000;

    private static readonly Dictionary<string, Func<byte[], object>> s_decoders = new()
    {
        ["proto"] = frame => ProtoFraming.DecodeClient(frame),
        ["json"] = frame => JsonFraming.DecodeClient(frame),
        ["phoenix"] = frame => PhoenixFraming.Decode(frame),
    };

    private static readonly Dictionary<string, string> s_seedPattern = new()
    {
        ["proto"] = "*.bin.hex",
        ["json"] = "*.json",
        ["phoenix"] = "*.phoenix.json",
    };

    private static Config Config => Config.QuickThrowOnFailure.WithMaxTest(Runs);

    [TestCase("proto")]
    [TestCase("json")]
    [TestCase("phoenix")]
    public void Decoder_mutatedValidFrames_returnARequestOrThrowProtocolException(string framing)
    {
        var seeds = Seeds(framing);
        var mutated = Gen.Elements(seeds).SelectMany(seed => Mutations(seed));

        Prop.ForAll(mutated.ToArbitrary(), frame => DecodesOrRefuses(framing, frame)).Check(Config);
    }

    [TestCase("proto")]
    [TestCase("json")]
    [TestCase("phoenix")]
    public void Decoder_arbitraryBytes_returnARequestOrThrowProtocolException(string framing) =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), frame => DecodesOrRefuses(framing, frame)).Check(Config);

    [TestCase("json")]
    [TestCase("phoenix")]
    public void Decoder_jsonLikeTokenSoup_returnsARequestOrThrowsProtocolException(string framing)
    {
        var token = Gen.Elements(
            "{", "}", "[", "]", ",", ":", "null", "true", "0", "-1", "1e400", "9223372036854775808", "1.5", "\"\"",
            "\"ref\"", "\"subscribe\"", "\"topics\"", "\"resumeAfter\"", "\"resumeEpochs\"", "\"ping\"", "\"refreshAuth\"",
            "\"sync:v1\"", "\"phx_join\"", "\"subscribe\"", "\"\\ud800\"", "\"\\u0000\"", "\"a\"", " ");
        var soup = Gen.ListOf(token).Select(tokens => Encoding.UTF8.GetBytes(string.Concat(tokens)));

        Prop.ForAll(soup.ToArbitrary(), frame => DecodesOrRefuses(framing, frame)).Check(Config);
    }

    [TestCase("proto")]
    [TestCase("json")]
    public void Subscribe_encodedThenDecoded_isUnchanged(string framing)
    {
        var strings = ArbMap.Default.GeneratorFor<string>().Where(s => s is not null);
        var subscribe =
            from reference in strings
            from topics in Gen.ListOf(strings)
            from after in Gen.ListOf(Gen.Zip(strings, ArbMap.Default.GeneratorFor<long>()))
            from epochs in Gen.ListOf(Gen.Zip(strings, strings))
            select new ClientEnvelope
            {
                Ref = reference,
                Subscribe = new Subscribe
                {
                    Topics = { topics },
                    ResumeAfter = { after.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2) },
                    ResumeEpochs = { epochs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2) },
                },
            };

        Prop.ForAll(subscribe.ToArbitrary(), envelope => RoundTrips(framing, envelope)).Check(Config);
    }

    private static bool RoundTrips(string framing, ClientEnvelope envelope)
    {
        // Strings with lone surrogates have no UTF-8 form: no client can send them.
        if (!IsValidUtf16(envelope.Ref) || envelope.Subscribe.Topics.Concat(envelope.Subscribe.ResumeAfter.Keys)
                .Concat(envelope.Subscribe.ResumeEpochs.Keys).Concat(envelope.Subscribe.ResumeEpochs.Values).Any(s => !IsValidUtf16(s)))
        {
            return true;
        }
        var decoded = framing == "proto"
            ? ProtoFraming.DecodeClient(ProtoFraming.Encode(envelope))
            : JsonFraming.DecodeClient(JsonFraming.Encode(envelope));
        return decoded.Equals(envelope);
    }

    private static bool IsValidUtf16(string value)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static bool DecodesOrRefuses(string framing, byte[] frame)
    {
        try
        {
            return s_decoders[framing](frame) is not null;
        }
        catch (ProtocolException)
        {
            return true;
        }
    }

    private static byte[][] Seeds(string framing)
    {
        var files = Directory.EnumerateFiles(Path.Combine(GoldenFrames.Root, "client"), s_seedPattern[framing])
            .Where(path => framing != "json" || !path.EndsWith(".phoenix.json", StringComparison.Ordinal))
            .Select(path => "client/" + Path.GetFileName(path))
            .ToArray();
        Assert.That(files, Is.Not.Empty);
        return [.. files.Select(file => framing == "proto" ? GoldenFrames.ParseHex(GoldenFrames.Text(file)) : GoldenFrames.Frame(file))];
    }

    /// <summary>A frame changed by one to four edits: a byte flipped, inserted or deleted, or the frame cut short.</summary>
    private static Gen<byte[]> Mutations(byte[] seed)
    {
        var edit =
            from kind in Gen.Choose(0, 3)
            from position in Gen.Choose(0, 1 << 20)
            from value in ArbMap.Default.GeneratorFor<byte>()
            select (Func<byte[], byte[]>)(frame =>
            {
                if (frame.Length == 0)
                {
                    return [value];
                }
                var at = position % frame.Length;
                return kind switch
                {
                    0 => [.. frame[..at], value, .. frame[(at + 1)..]],
                    1 => [.. frame[..at], value, .. frame[at..]],
                    2 => [.. frame[..at], .. frame[(at + 1)..]],
                    _ => frame[..at],
                };
            });
        return Gen.Choose(1, 4).SelectMany(count => Gen.ArrayOf(edit, count))
            .Select(edits => edits.Aggregate(seed, (frame, apply) => apply(frame)));
    }
}
