using System.CommandLine;

namespace Relay.Host.Cli;

/// <summary>Options whose values are checked as they are parsed, so that a wrong one is one clear line, not an exception.</summary>
internal static class CliOptions
{
    /// <summary><c>--url</c>: a relay's HTTP address, <see cref="TailCommand.DefaultUrl"/> when absent.</summary>
    public static Option<Uri> RelayUrl() => new("--url")
    {
        Description = $"The relay's HTTP address (default {TailCommand.DefaultUrl})",
        DefaultValueFactory = _ => new Uri(TailCommand.DefaultUrl),
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
            {
                return url;
            }
            result.AddError($"--url '{text}' is not an http:// or https:// address; give the relay's, e.g. {TailCommand.DefaultUrl}");
            return null;
        },
    };

    /// <summary><c>--data-dir</c>: the embedded database's folder, which <see cref="EmbeddedDirectory.Find"/> looks for when absent.</summary>
    public static Option<string?> DataDirectory() => new("--data-dir")
    {
        Description = "The embedded database's folder (Relay:DataDirectory); default: the nearest .relay/ here or in a folder above",
    };

    /// <summary>A JSON text, required.</summary>
    public static Option<string> Json(string name, string description) => new(name)
    {
        Description = description,
        Required = true,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            try
            {
                using var parsed = System.Text.Json.JsonDocument.Parse(text);
                return text;
            }
            catch (System.Text.Json.JsonException e)
            {
                result.AddError($"{name} is not JSON ({e.Message}); give the document as JSON, e.g. '{{\"status\":\"running\"}}'");
                return null;
            }
        },
    };

    /// <summary>A whole number of at least <paramref name="minimum"/>; absent, the option's default (null or 0).</summary>
    public static Option<T> WholeNumber<T>(string name, string description, long minimum)
    {
        return new Option<T>(name)
        {
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens[0].Value;
                if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value)
                    && value >= minimum)
                {
                    return (T)(object)value;
                }
                result.AddError($"{name} '{text}' is not a whole number of {minimum} or more");
                return default;
            },
        };
    }
}
