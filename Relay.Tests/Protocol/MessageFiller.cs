using System.Collections;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Relay.Tests.Protocol;

/// <summary>
/// Builds messages with every field set to a non-default value, from the descriptors, so that a field added
/// to the proto is covered by the round-trip tests without touching them.
/// </summary>
internal static class MessageFiller
{
    /// <summary>A payload exercising what must pass through verbatim: spacing, nesting, an integer over 2^53.</summary>
    public static readonly ByteString Payload = ByteString.CopyFromUtf8(
        "{\"steps\": 3, \"nested\": [1, 2.5e10, \"é\\u2028\", null, {\"ok\": true}], \"big\": 155627012252807600}");

    /// <summary>An int64 above 2^53: exact in the codecs, though not in JavaScript numbers.</summary>
    private const long LargeInt64 = 9_007_199_254_740_993;

    public static IMessage Filled(MessageDescriptor descriptor)
    {
        var message = New(descriptor);
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.RealContainingOneof is not null)
            {
                continue;
            }

            if (field.IsMap)
            {
                var map = (IDictionary)field.Accessor.GetValue(message);
                var key = field.MessageType.FindFieldByNumber(1);
                var value = field.MessageType.FindFieldByNumber(2);
                map.Add(Value(key, 1), Value(value, 1));
                map.Add(Value(key, 2), Value(value, 2));
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                list.Add(Value(field, 1));
                list.Add(Value(field, 2));
            }
            else
            {
                field.Accessor.SetValue(message, Value(field, 1));
            }
        }

        return message;
    }

    /// <summary>A message with every field at its default.</summary>
    public static IMessage New(MessageDescriptor descriptor) => (IMessage)Activator.CreateInstance(descriptor.ClrType)!;

    /// <summary>The names of an envelope's messages (its oneof's fields).</summary>
    public static IEnumerable<string> MessageNames(MessageDescriptor envelope) =>
        envelope.Oneofs.Single().Fields.Select(field => field.Name);

    /// <summary>An envelope holding <paramref name="message"/>, every field of it set or every one at its default.</summary>
    public static T Envelope<T>(string message, string @ref, bool filled)
        where T : IMessage, new()
    {
        var envelope = new T();
        var descriptor = envelope.Descriptor;
        descriptor.FindFieldByName("ref").Accessor.SetValue(envelope, @ref);
        var field = descriptor.FindFieldByName(message);
        field.Accessor.SetValue(envelope, filled ? Filled(field.MessageType) : New(field.MessageType));
        return envelope;
    }

    private static object Value(FieldDescriptor field, int n) => field.FieldType switch
    {
        FieldType.String => $"{field.Name}-{n}-é✓\"",
        FieldType.Int64 => LargeInt64 + n,
        FieldType.UInt32 => uint.MaxValue - (uint)n,
        FieldType.Bool => true,
        FieldType.Bytes when field.Name == "payload" => Payload,
        FieldType.Bytes => ByteString.CopyFrom(Encoding.ASCII.GetBytes($"{field.Name}-{n}-0123456789abcdef".PadRight(32, '.')[..32])),
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, field.EnumType.Values[^1].Number),
        FieldType.Message => Filled(field.MessageType),
        _ => throw new NotSupportedException($"Add a value for {field.FieldType} ({field.FullName})."),
    };
}
