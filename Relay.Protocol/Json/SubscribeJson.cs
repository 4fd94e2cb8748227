using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="Subscribe"/>.</summary>
internal static class SubscribeJson
{
    private static readonly JsonField _topics = JsonField.Of(Subscribe.Descriptor, Subscribe.TopicsFieldNumber);
    private static readonly JsonField _resumeAfter = JsonField.Of(Subscribe.Descriptor, Subscribe.ResumeAfterFieldNumber);
    private static readonly JsonField _resumeEpochs = JsonField.Of(Subscribe.Descriptor, Subscribe.ResumeEpochsFieldNumber);

    public static void Write(Utf8JsonWriter writer, Subscribe subscribe)
    {
        writer.WriteStartObject();
        writer.WriteField(_topics, subscribe.Topics);
        writer.WriteField(_resumeAfter, subscribe.ResumeAfter);
        writer.WriteField(_resumeEpochs, subscribe.ResumeEpochs);
        writer.WriteEndObject();
    }

    public static Subscribe Read(ref JsonCursor json)
    {
        var subscribe = new Subscribe();
        while (json.NextProperty())
        {
            if (json.Is(_topics))
            {
                json.Strings(_topics, subscribe.Topics);
            }
            else if (json.Is(_resumeAfter))
            {
                json.Int64Map(_resumeAfter, subscribe.ResumeAfter);
            }
            else if (json.Is(_resumeEpochs))
            {
                json.StringMap(_resumeEpochs, subscribe.ResumeEpochs);
            }
            else
            {
                json.SkipValue();
            }
        }

        return subscribe;
    }
}
