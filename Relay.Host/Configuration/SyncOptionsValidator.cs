using Microsoft.Extensions.Options;
using Relay.Host.Sync;

namespace Relay.Host.Configuration;

/// <summary>Checks <see cref="SyncOptions"/> at start (source-generated from its data annotations).</summary>
[OptionsValidator]
internal sealed partial class SyncOptionsValidator : IValidateOptions<SyncOptions>;
