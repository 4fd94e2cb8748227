using System.Text.Json;
using OpenAgents.Sync.V1;
using Case = OpenAgents.Sync.V1.ClientEnvelope.MessageOneofCase;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="ClientEnvelope"/>: <c>{"ref": ..., "&lt;message&gt;": {...}}</c>.</summary>
internal static class ClientEnvelopeJson
{
    private static readonly JsonField _ref = Field(ClientEnvelope.RefFieldNumber);
    private static readonly JsonField _subscribe = Field(ClientEnvelope.SubscribeFieldNumber);
    private static readonly JsonField _unsubscribe = Field(ClientEnvelope.UnsubscribeFieldNumber);
    private static readonly JsonField _refreshAuth = Field(ClientEnvelope.RefreshAuthFieldNumber);
    private static readonly JsonField _ping = Field(ClientEnvelope.PingFieldNumber);

    public static void Write(Utf8JsonWriter writer, ClientEnvelope envelope)
    {
        writer.WriteStartObject();
        writer.WriteField(_ref, envelope.Ref);
        switch (envelope.MessageCase)
        {
            case Case.Subscribe:
                writer.WritePropertyName(_subscribe.Name);
                SubscribeJson.Write(writer, envelope.Subscribe);
                break;
            case Case.Unsubscribe:
                writer.WritePropertyName(_unsubscribe.Name);
                UnsubscribeJson.Write(writer, envelope.Unsubscribe);
                break;
            case Case.RefreshAuth:
                writer.WritePropertyName(_refreshAuth.Name);
                RefreshAuthJson.Write(writer, envelope.RefreshAuth);
                break;
            case Case.Ping:
                writer.WriteEmptyObject(_ping);
                break;
            default:
                throw new ArgumentException("The envelope holds no message.", nameof(envelope));
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads the envelope's fields into <paramref name="envelope"/>, which the caller holds on to
    /// so that an error can still name the request's ref.</summary>
    public static void Read(ref JsonCursor json, ClientEnvelope envelope)
    {
        while (json.NextProperty())
        {
            var isSet = envelope.MessageCase != Case.None;
            if (json.Is(_ref))
            {
                envelope.Ref = json.String(_ref);
            }
            else if (json.Is(_subscribe))
            {
                if (json.StartOneof(_subscribe, isSet))
                {
                    envelope.Subscribe = SubscribeJson.Read(ref json);
                }
            }
            else if (json.Is(_unsubscribe))
            {
                if (json.StartOneof(_unsubscribe, isSet))
                {
                    envelope.Unsubscribe = UnsubscribeJson.Read(ref json);
                }
            }
            else if (json.Is(_refreshAuth))
            {
                if (json.StartOneof(_refreshAuth, isSet))
                {
                    envelope.RefreshAuth = RefreshAuthJson.Read(ref json);
                }
            }
            else if (json.Is(_ping))
            {
                if (json.StartOneof(_ping, isSet))
                {
                    json.SkipObject();
                    envelope.Ping = new Ping();
                }
            }
            else
            {
                json.SkipValue();
            }
        }
    }

    private static JsonField Field(int number) => JsonField.Of(ClientEnvelope.Descriptor, number);
}
