using System.Text.Json.Serialization;

namespace Relay.Protocol.Hydration;

/// <summary>The body of <c>GET /sync/v1/doc/{doc_key}</c>: the document, its topic, and the topic's watermark when asked without one.</summary>
/// <param name="Topic">The document's topic.</param>
/// <param name="DocKey">The document's key.</param>
/// <param name="DocVersion">The document's version.</param>
/// <param name="Payload">The document's JSON as UTF-8, inline.</param>
/// <param name="PayloadHash">SHA-256 of the payload's canonical JSON, base64.</param>
/// <param name="Watermark">The watermark of the document's last change; absent when the request named the topic.</param>
public sealed record DocumentResponse(
    [property: JsonPropertyOrder(-1)] string Topic,
    string DocKey,
    long DocVersion,
    ReadOnlyMemory<byte> Payload,
    ReadOnlyMemory<byte> PayloadHash,
    [property: JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Watermark)
    : HydratedDocument(DocKey, DocVersion, Payload, PayloadHash);
