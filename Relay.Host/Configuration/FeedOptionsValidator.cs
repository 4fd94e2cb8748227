using Microsoft.Extensions.Options;
using Relay.Core.Feeds;

namespace Relay.Host.Configuration;

/// <summary>Checks <see cref="FeedOptions"/> at start (source-generated from its data annotations).</summary>
[OptionsValidator]
internal sealed partial class FeedOptionsValidator : IValidateOptions<FeedOptions>;
