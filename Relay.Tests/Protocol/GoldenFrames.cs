using System.Globalization;
using System.Text;

namespace Relay.Tests.Protocol;

/// <summary>
/// The golden frames under fixtures/protocol: <c>client/</c> and <c>server/</c>, one example per name, as
/// <c>NAME.json</c> (JSON framing), <c>NAME.bin.hex</c> (binary framing as hex, 16 bytes a line) and
/// <c>NAME.phoenix.json</c> (Phoenix framing). Each file is the frame followed by one newline.
/// </summary>
internal static class GoldenFrames
{
    public static string Root => Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "protocol");

    /// <summary>Example names that have a JSON frame, i.e. that map to an envelope, in one direction.</summary>
    public static IEnumerable<string> EnvelopeExamples(string direction) =>
        Directory.EnumerateFiles(Path.Combine(Root, direction), "*.json")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => !name.EndsWith(".phoenix.json", StringComparison.Ordinal))
            .Select(name => name[..^".json".Length])
            .Order(StringComparer.Ordinal);

    /// <summary>Every fixture file, relative to the root, with forward slashes.</summary>
    public static IEnumerable<string> AllFiles() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    public static string Text(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath), Encoding.UTF8);

    public static bool Exists(string relativePath) => File.Exists(Path.Combine(Root, relativePath));

    /// <summary>The frame in a text fixture: its bytes without the final newline.</summary>
    public static byte[] Frame(string relativePath)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Root, relativePath));
        Assert.That(bytes, Is.Not.Empty.And.Property("Length").GreaterThan(1));
        Assert.That(bytes[^1], Is.EqualTo((byte)'\n'), $"{relativePath} ends with one newline");
        return bytes[..^1];
    }

    /// <summary>Bytes as the .bin.hex fixtures show them: lowercase hex, space-separated, 16 a line.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        for (var i = 0; i < bytes.Length; i++)
        {
            text.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            text.Append(i % 16 == 15 || i == bytes.Length - 1 ? '\n' : ' ');
        }

        return text.ToString();
    }

    public static byte[] ParseHex(string hex) =>
        hex.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => byte.Parse(pair, NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToArray();
}
