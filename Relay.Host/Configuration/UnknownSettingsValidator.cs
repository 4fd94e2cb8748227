using System.Reflection;
using Microsoft.Extensions.Options;

namespace Relay.Host.Configuration;

/// <summary>A configuration section under <c>Relay</c> and an options class bound to it.</summary>
internal sealed record BoundSection(string Path, Type Options);

/// <summary>
/// Refuses keys under <c>Relay</c> that no options class reads. .NET's binder ignores them, so a typo
/// (<c>Relay__ConectionString</c>) would otherwise run the relay on the embedded database, and <c>Relay:Sycn:SendTimeout</c>
/// on the default, without a word.
/// </summary>
internal sealed class UnknownSettingsValidator(IConfiguration configuration, IEnumerable<BoundSection> sections) : IValidateOptions<RelayOptions>
{
    private readonly BoundSection[] _sections = [.. sections];

    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var failures = new List<string>();
        Check(configuration.GetSection(RelayOptions.Section), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void Check(IConfigurationSection section, List<string> failures)
    {
        var settings = _sections.Where(bound => Is(bound.Path, section.Path)).SelectMany(bound => Settings(bound.Options)).ToArray();
        var subsections = _sections.Where(bound => Is(ConfigurationPath.GetParentPath(bound.Path) ?? "", section.Path))
            .Select(bound => ConfigurationPath.GetSectionKey(bound.Path)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var unknown = new List<string>();
        foreach (var child in section.GetChildren())
        {
            if (subsections.Any(key => Is(key, child.Key)))
            {
                Check(child, failures);
            }
            else if (!settings.Any(setting => Is(setting, child.Key)))
            {
                unknown.Add(child.Path);
            }
        }
        if (unknown.Count > 0)
        {
            var takes = string.Join(", ", settings.Order(StringComparer.Ordinal));
            var within = subsections.Length == 0 ? "" : $", and the sections {string.Join(", ", subsections.Order(StringComparer.Ordinal))}";
            var what = unknown.Count == 1 ? "is not a setting" : "are not settings";
            failures.Add($"{string.Join(" and ", unknown)} {what} of the relay ({section.Path} takes {takes}{within}; docs/architecture.md §6 lists them)");
        }
    }

    /// <summary>What the binder sets: properties with a setter, and collections it fills in place (<c>Relay:Auth:Keys</c>).</summary>
    private static IEnumerable<string> Settings(Type options) =>
        options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite || property.PropertyType.GetInterfaces().Append(property.PropertyType)
                .Any(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ICollection<>)))
            .Select(property => property.Name);

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
