using Microsoft.Extensions.Options;

namespace Relay.Host.Configuration;

/// <summary>Checks <see cref="RelayOptions"/> at start (source-generated from its data annotations).</summary>
[OptionsValidator]
internal sealed partial class RelayOptionsValidator : IValidateOptions<RelayOptions>;
