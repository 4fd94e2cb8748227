using Microsoft.Extensions.Options;
using Relay.Core.Topics;

namespace Relay.Host.Configuration;

/// <summary>Checks <see cref="TopicLogOptions"/> at start (source-generated from its data annotations).</summary>
[OptionsValidator]
internal sealed partial class TopicLogOptionsValidator : IValidateOptions<TopicLogOptions>;
