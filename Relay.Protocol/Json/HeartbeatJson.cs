using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="Heartbeat"/>.</summary>
internal static class HeartbeatJson
{
    private static readonly JsonField _watermarks = JsonField.Of(Heartbeat.Descriptor, Heartbeat.WatermarksFieldNumber);
    private static readonly JsonField _epochs = JsonField.Of(Heartbeat.Descriptor, Heartbeat.EpochsFieldNumber);

    public static void Write(Utf8JsonWriter writer, Heartbeat heartbeat)
    {
        writer.WriteStartObject();
        writer.WriteField(_watermarks, heartbeat.Watermarks);
        writer.WriteField(_epochs, heartbeat.Epochs);
        writer.WriteEndObject();
    }

    public static Heartbeat Read(ref JsonCursor json)
    {
        var heartbeat = new Heartbeat();
        while (json.NextProperty())
        {
            if (json.Is(_watermarks))
            {
                json.Int64Map(_watermarks, heartbeat.Watermarks);
            }
            else if (json.Is(_epochs))
            {
                json.StringMap(_epochs, heartbeat.Epochs);
            }
            else
            {
                json.SkipValue();
            }
        }

        return heartbeat;
    }
}
