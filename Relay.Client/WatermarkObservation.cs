namespace Relay.Client;

/// <summary>A watermark the client stored, with the connection it came on; a test hook for delivery checks.</summary>
/// <param name="Connection">Counts the client's connections from 1.</param>
/// <param name="Topic">The topic.</param>
/// <param name="Watermark">The watermark stored.</param>
/// <param name="HasUpdates">Whether it came with a batch holding updates of the topic (not a heartbeat or an empty batch).</param>
internal sealed record WatermarkObservation(int Connection, string Topic, long Watermark, bool HasUpdates);
