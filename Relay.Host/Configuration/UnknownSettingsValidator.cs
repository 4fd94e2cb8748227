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
        var bound = _sections.Where(bound => Is(bound.Path, section.Path)).SelectMany(bound => Settings(bound.Options)).ToArray();
        var settings = bound.Select(setting => setting.Name).ToArray();
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
            else if (child.Value is not null && bound.FirstOrDefault(setting => setting.Entry is not null && Is(setting.Name, child.Key)).Entry is { } entry)
            {
                // The binder skips a list given one value (Relay__Cors__Origins=https://…): no origin allowed, silently.
                var variable = child.Path.Replace(":", "__", StringComparison.Ordinal);
                failures.Add(entry == "0"
                    ? $"{child.Path} is a list, given one value: give each entry its own key, {variable}__0=…, {variable}__1=… in the " +
                      $"environment (--{child.Path}:0=… as an argument), or a JSON array in appsettings.json"
                    : $"{child.Path} is a map, given one value: give each entry its own key, {variable}__{entry}=… in the environment " +
                      $"(--{child.Path}:{entry}=… as an argument)");
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

    /// <summary>
    /// What the binder sets: properties with a setter, and collections it fills in place (<c>Relay:Auth:Keys</c>). A
    /// collection takes entries and no value of its own: <paramref name="options"/>' lists name theirs <c>0</c>, <c>1</c>,
    /// …, maps a name of the operator's, which <c>Entry</c> gives as <c>&lt;name&gt;</c>; null for a setting of one value.
    /// </summary>
    private static IEnumerable<(string Name, string? Entry)> Settings(Type options) =>
        options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(property => (property.Name, property.CanWrite, Entry: Entry(property.PropertyType)))
            .Where(setting => setting.CanWrite || setting.Entry is not null)
            .Select(setting => (setting.Name, setting.Entry));

    private static string? Entry(Type type)
    {
        var interfaces = type.GetInterfaces().Append(type).Where(i => i.IsGenericType).Select(i => i.GetGenericTypeDefinition()).ToArray();
        return type == typeof(string) ? null
            : interfaces.Contains(typeof(IDictionary<,>)) ? "<name>"
            : interfaces.Contains(typeof(ICollection<>)) ? "0"
            : null;
    }

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
