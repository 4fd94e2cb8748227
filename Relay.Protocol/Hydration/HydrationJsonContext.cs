using System.Text.Json.Serialization;

namespace Relay.Protocol.Hydration;

/// <summary>
/// The source-generated serializers of the HTTP bodies, shared by the relay (which writes them) and the C# client
/// (which reads them): no reflection on either side, and one definition of each body's shape.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DocumentResponse))]
[JsonSerializable(typeof(DocumentPage))]
[JsonSerializable(typeof(HttpError))]
public sealed partial class HydrationJsonContext : JsonSerializerContext;
