using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Relay.Protocol.Json;

/// <summary>Reader and writer settings shared by the JSON and Phoenix framings.</summary>
internal static class JsonSettings
{
    /// <summary>Document payloads may nest deeply; the writer's own limit is the same.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 1000 };

    // Frames go to WebSocket clients, not into HTML: UTF-8 is written as is, only JSON's own escapes apply.
    private static readonly JsonWriterOptions _writerOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Utf8JsonWriter CreateWriter(IBufferWriter<byte> output) => new(output, _writerOptions);

    public static byte[] Write<T>(T value, Action<T, IBufferWriter<byte>> encode)
    {
        var output = new ArrayBufferWriter<byte>();
        encode(value, output);
        return output.WrittenSpan.ToArray();
    }
}
