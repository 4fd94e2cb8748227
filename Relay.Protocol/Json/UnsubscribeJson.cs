using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="Unsubscribe"/>.</summary>
internal static class UnsubscribeJson
{
    private static readonly JsonField _topics = JsonField.Of(Unsubscribe.Descriptor, Unsubscribe.TopicsFieldNumber);

    public static void Write(Utf8JsonWriter writer, Unsubscribe unsubscribe)
    {
        writer.WriteStartObject();
        writer.WriteField(_topics, unsubscribe.Topics);
        writer.WriteEndObject();
    }

    public static Unsubscribe Read(ref JsonCursor json)
    {
        var unsubscribe = new Unsubscribe();
        while (json.NextProperty())
        {
            if (json.Is(_topics))
            {
                json.Strings(_topics, unsubscribe.Topics);
            }
            else
            {
                json.SkipValue();
            }
        }

        return unsubscribe;
    }
}
