using Microsoft.Extensions.Options;

namespace Relay.Host.Diagnostics;

/// <summary>Checks <see cref="MetricsOptions"/> at start.</summary>
[OptionsValidator]
internal sealed partial class MetricsOptionsValidator : IValidateOptions<MetricsOptions>;
