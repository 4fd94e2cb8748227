using System.Text.Json.Serialization;

namespace Relay.Host.Development;

/// <summary>The JSON of <c>dev-key.json</c>: <c>{"kid": …, "secret": base64, "created": …}</c>.</summary>
internal sealed class DevKeyFile
{
    [JsonPropertyName("kid")]
    public string? Kid { get; set; }

    [JsonPropertyName("secret")]
    public string? Secret { get; set; }

    [JsonPropertyName("created")]
    public DateTimeOffset Created { get; set; }
}
