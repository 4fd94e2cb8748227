using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="Subscribed"/>.</summary>
internal static class SubscribedJson
{
    private static readonly JsonField _subscriptionId = Field(Subscribed.SubscriptionIdFieldNumber);
    private static readonly JsonField _currentWatermarks = Field(Subscribed.CurrentWatermarksFieldNumber);
    private static readonly JsonField _epochs = Field(Subscribed.EpochsFieldNumber);

    public static void Write(Utf8JsonWriter writer, Subscribed subscribed)
    {
        writer.WriteStartObject();
        writer.WriteField(_subscriptionId, subscribed.SubscriptionId);
        writer.WriteField(_currentWatermarks, subscribed.CurrentWatermarks);
        writer.WriteField(_epochs, subscribed.Epochs);
        writer.WriteEndObject();
    }

    public static Subscribed Read(ref JsonCursor json)
    {
        var subscribed = new Subscribed();
        while (json.NextProperty())
        {
            if (json.Is(_subscriptionId))
            {
                subscribed.SubscriptionId = json.String(_subscriptionId);
            }
            else if (json.Is(_currentWatermarks))
            {
                json.Int64Map(_currentWatermarks, subscribed.CurrentWatermarks);
            }
            else if (json.Is(_epochs))
            {
                json.StringMap(_epochs, subscribed.Epochs);
            }
            else
            {
                json.SkipValue();
            }
        }

        return subscribed;
    }

    private static JsonField Field(int number) => JsonField.Of(Subscribed.Descriptor, number);
}
