using System.Text.Json.Serialization;

namespace Relay.Host.Development;

/// <summary>Source-generated (de)serialization of <see cref="DevKeyFile"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(DevKeyFile))]
internal sealed partial class DevKeyFileContext : JsonSerializerContext;
