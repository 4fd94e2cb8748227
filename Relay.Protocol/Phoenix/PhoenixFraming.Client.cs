using System.Buffers;
using Relay.Protocol.Json;

namespace Relay.Protocol.Phoenix;

public sealed partial class PhoenixFraming
{
    /// <summary>
    /// Writes a client frame, as the stock <c>phoenix</c> JS client would send it; for C# clients and tests.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A <c>subscribe</c>, <c>unsubscribe</c> or <c>refresh_auth</c> frame whose envelope does not hold that message.
    /// </exception>
    public static void Encode(PhoenixClientFrame frame, IBufferWriter<byte> output)
    {
        using var writer = JsonSettings.CreateWriter(output);
        StartFrame(writer, frame.JoinRef, frame.Ref, frame.Topic, EventName(frame.Event));
        switch (frame.Event)
        {
            case PhoenixClientEvent.Join:
                writer.WriteStartObject();
                if (frame.Token is not null)
                {
                    writer.WriteString(_token.Name, frame.Token);
                }

                writer.WriteEndObject();
                break;
            case PhoenixClientEvent.Subscribe:
                SubscribeJson.Write(writer, RequireMessage(frame, frame.Envelope?.Subscribe));
                break;
            case PhoenixClientEvent.Unsubscribe:
                UnsubscribeJson.Write(writer, RequireMessage(frame, frame.Envelope?.Unsubscribe));
                break;
            case PhoenixClientEvent.RefreshAuth:
                RefreshAuthJson.Write(writer, RequireMessage(frame, frame.Envelope?.RefreshAuth));
                break;
            default:
                WriteEmptyObject(writer);
                break;
        }

        writer.WriteEndArray();
    }

    /// <summary>Returns a client frame; see <see cref="Encode(PhoenixClientFrame, IBufferWriter{byte})"/>.</summary>
    /// <exception cref="ArgumentException">The frame's envelope does not match its event.</exception>
    public static byte[] Encode(PhoenixClientFrame frame) => JsonSettings.Write(frame, Encode);

    private static string EventName(PhoenixClientEvent clientEvent) => clientEvent switch
    {
        PhoenixClientEvent.Join => PhoenixEvents.Join,
        PhoenixClientEvent.Leave => PhoenixEvents.Leave,
        PhoenixClientEvent.Heartbeat => PhoenixEvents.Heartbeat,
        PhoenixClientEvent.Subscribe => PhoenixEvents.Subscribe,
        PhoenixClientEvent.Unsubscribe => PhoenixEvents.Unsubscribe,
        PhoenixClientEvent.RefreshAuth => PhoenixEvents.RefreshAuth,
        _ => throw new ArgumentOutOfRangeException(nameof(clientEvent), clientEvent, "Unknown event."),
    };

    private static T RequireMessage<T>(PhoenixClientFrame frame, T? message)
        where T : class =>
        message ?? throw new ArgumentException($"A {EventName(frame.Event)} frame needs an envelope holding that message.", nameof(frame));
}
