namespace Relay.Bench.E2E;

/// <summary>Called with each update's topic (UTF-8) and watermark.</summary>
internal delegate void UpdateVisitor(ReadOnlySpan<byte> topic, long watermark);

/// <summary>
/// Reads what the benchmark clients need from a binary <c>ServerEnvelope</c>: the updates of an update batch (topic and
/// watermark) and whether it ends a replay, without materialising the message. Written by hand: Google.Protobuf's
/// generated parser copies every payload into a new ByteString, which at a million updates/s made the load generator
/// the limit of the fan-out runs rather than the server under test.
/// </summary>
internal static class FrameScanner
{
    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    /// <summary>Scans an update batch; false when the frame holds another message.</summary>
    public static bool ScanBatch(ReadOnlySpan<byte> frame, UpdateVisitor? visit, out int updates, out bool endsReplay)
    {
        updates = 0;
        endsReplay = false;
        if (!TryField(frame, number: 3, out var batch))
        {
            return false;
        }
        for (var position = 0; position < batch.Length;)
        {
            var (number, wireType) = ReadTag(batch, ref position);
            if (number == 1 && wireType == LengthDelimited)
            {
                var update = ReadLengthDelimited(batch, ref position);
                updates++;
                if (visit is not null)
                {
                    TryField(update, number: 1, out var topic);
                    visit(topic, (long)FieldVarint(update, number: 5));
                }
            }
            else
            {
                endsReplay |= number == 3;
                Skip(batch, ref position, wireType);
            }
        }
        return true;
    }

    private static bool TryField(ReadOnlySpan<byte> message, int number, out ReadOnlySpan<byte> value)
    {
        for (var position = 0; position < message.Length;)
        {
            var (field, wireType) = ReadTag(message, ref position);
            if (field == number && wireType == LengthDelimited)
            {
                value = ReadLengthDelimited(message, ref position);
                return true;
            }
            Skip(message, ref position, wireType);
        }
        value = [];
        return false;
    }

    private static ulong FieldVarint(ReadOnlySpan<byte> message, int number)
    {
        for (var position = 0; position < message.Length;)
        {
            var (field, wireType) = ReadTag(message, ref position);
            if (field == number && wireType == Varint)
            {
                return ReadVarint(message, ref position);
            }
            Skip(message, ref position, wireType);
        }
        return 0;
    }

    private static (int Number, int WireType) ReadTag(ReadOnlySpan<byte> message, scoped ref int position)
    {
        var tag = ReadVarint(message, ref position);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> message, scoped ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static ReadOnlySpan<byte> ReadLengthDelimited(ReadOnlySpan<byte> message, scoped ref int position)
    {
        var length = (int)ReadVarint(message, ref position);
        var value = message.Slice(position, length);
        position += length;
        return value;
    }

    private static void Skip(ReadOnlySpan<byte> message, ref int position, int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(message, ref position); break;
            case Fixed64: position += 8; break;
            case LengthDelimited: ReadLengthDelimited(message, ref position); break;
            case Fixed32: position += 4; break;
            default: throw new InvalidDataException($"unsupported wire type {wireType}");
        }
    }
}
