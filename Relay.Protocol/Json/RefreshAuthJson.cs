using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="RefreshAuth"/>.</summary>
internal static class RefreshAuthJson
{
    private static readonly JsonField _token = JsonField.Of(RefreshAuth.Descriptor, RefreshAuth.TokenFieldNumber);

    public static void Write(Utf8JsonWriter writer, RefreshAuth refreshAuth)
    {
        writer.WriteStartObject();
        writer.WriteField(_token, refreshAuth.Token);
        writer.WriteEndObject();
    }

    public static RefreshAuth Read(ref JsonCursor json)
    {
        var refreshAuth = new RefreshAuth();
        while (json.NextProperty())
        {
            if (json.Is(_token))
            {
                refreshAuth.Token = json.String(_token);
            }
            else
            {
                json.SkipValue();
            }
        }

        return refreshAuth;
    }
}
