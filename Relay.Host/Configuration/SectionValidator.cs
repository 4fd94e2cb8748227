using Microsoft.Extensions.Options;

namespace Relay.Host.Configuration;

/// <summary>
/// Runs a source-generated validator with the options' configuration section as their name, so that a failure names
/// the key an operator sets (<c>Relay:TopicLogs:RingCapacity</c>), not the C# type.
/// </summary>
internal sealed class SectionValidator<TOptions>(IValidateOptions<TOptions> generated, string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var result = generated.Validate(section, options);
        // The generator writes "{name}.{member}"; configuration keys are separated by colons.
        return result.Failed ? ValidateOptionsResult.Fail(result.Failures.Select(failure => failure.Replace($"{section}.", $"{section}:", StringComparison.Ordinal))) : result;
    }
}
