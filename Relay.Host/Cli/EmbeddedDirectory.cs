using Relay.Core.Provisioning;
using Relay.Host.Configuration;

namespace Relay.Host.Cli;

/// <summary>
/// Finds the embedded database's data directory the same way from any working directory: <c>--data-dir</c> when given;
/// else <c>Relay:DataDirectory</c> when it is configured to something other than <c>.relay</c>; else the nearest
/// <c>.relay/</c> holding a cluster in the working directory or a folder above it, as git finds <c>.git/</c>.
/// </summary>
internal static class EmbeddedDirectory
{
    /// <summary>The default folder name: <c>.relay</c>.</summary>
    public const string DefaultName = ".relay";

    /// <summary>The data directory if one is named or found; null when none exists yet.</summary>
    public static string? Find(string? dataDirectory, RelayOptions options)
    {
        if (!string.IsNullOrEmpty(dataDirectory))
        {
            return Path.GetFullPath(dataDirectory);
        }
        if (options.DataDirectory != DefaultName)
        {
            return Path.GetFullPath(options.DataDirectory);
        }
        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, DefaultName);
            if (Directory.Exists(Path.Combine(candidate, "postgres")))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The data directory <c>relay up</c> and <c>serve</c> use: the one found, else <c>./.relay</c>, created on start.</summary>
    public static string ForStart(string? dataDirectory, RelayOptions options) =>
        Find(dataDirectory, options) ?? Path.GetFullPath(DefaultName);

    /// <summary>The data directory of an existing embedded database, for the verbs that must not create one.</summary>
    /// <exception cref="ProvisioningException">None is found.</exception>
    public static string Require(string? dataDirectory, RelayOptions options)
    {
        var found = Find(dataDirectory, options);
        if (found is not null && Directory.Exists(Path.Combine(found, "postgres")))
        {
            return found;
        }
        throw new ProvisioningException(found is null
            ? $"no embedded database in {Path.GetFullPath(DefaultName)} or any folder above: start one with relay up, " +
              "or pass --data-dir or --connection-string"
            : $"no embedded database in {found}: --data-dir (or Relay:DataDirectory) names the database's folder itself, " +
              "the .relay folder relay up made; or start one there with relay up --data-dir");
    }
}
