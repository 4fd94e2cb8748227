using System.Text.Json.Serialization;

namespace Relay.Protocol.Hydration;

/// <summary>A document as <c>GET /sync/v1/list/{topic}</c> returns it (CONTRACT §3): its current version, payload and hash.</summary>
/// <param name="DocKey">The document's key, unique across the database.</param>
/// <param name="DocVersion">The document's version.</param>
/// <param name="Payload">The document's JSON as UTF-8, written inline (as in the JSON framing), not base64.</param>
/// <param name="PayloadHash">SHA-256 of the payload's canonical JSON (RFC 8785), base64; empty when a relay sent none.</param>
public record HydratedDocument(
    string DocKey,
    long DocVersion,
    [property: JsonConverter(typeof(RawJsonConverter))] ReadOnlyMemory<byte> Payload,
    ReadOnlyMemory<byte> PayloadHash);
