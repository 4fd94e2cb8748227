using System.Security.Cryptography;
using System.Text.Json;
using Relay.Core.Auth;

namespace Relay.Host.Development;

public static partial class DevTokens
{
    /// <summary>The development key's file name under the relay's data directory: <c>dev-key.json</c>.</summary>
    public const string DevKeyFileName = "dev-key.json";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Where the development key of <paramref name="dataDirectory"/> is kept.</summary>
    public static string DevKeyPath(string dataDirectory) => Path.GetFullPath(Path.Combine(dataDirectory, DevKeyFileName));

    /// <summary>
    /// Loads the development key under <paramref name="dataDirectory"/> (<c>Relay:DataDirectory</c>, default
    /// <c>./.relay</c>), or creates it there: 256 random bits with the kid <c>dev-yyyyMMdd</c> of its creation, in a
    /// file only its owner may read. It is created once and then reused, so tokens stay valid across restarts.
    /// </summary>
    /// <exception cref="AuthConfigurationException">The file exists but is damaged; deleting it makes a new key.</exception>
    public static HmacKey EnsureDevKey(string dataDirectory, TimeProvider? timeProvider = null)
    {
        var path = DevKeyPath(dataDirectory);
        if (File.Exists(path))
        {
            return ReadDevKey(path);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        var key = new HmacKey($"dev-{now:yyyyMMdd}", RandomNumberGenerator.GetBytes(HmacKey.MinimumSecretBytes));
        var file = new DevKeyFile { Kid = key.KeyId, Secret = key.SecretBase64, Created = now };
        // Written aside and moved in place, so that a relay starting at the same moment never reads half a file.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, Options()))
        {
            JsonSerializer.Serialize(stream, file, DevKeyFileContext.Default.DevKeyFile);
        }
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return ReadDevKey(path);
        }
        return key;
    }

    private static HmacKey ReadDevKey(string path)
    {
        DevKeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), DevKeyFileContext.Default.DevKeyFile);
        }
        catch (JsonException e)
        {
            throw new AuthConfigurationException($"{path} is not a development key file; delete it to make a new key", e);
        }
        return HmacKey.TryDecode(file?.Kid ?? "", file?.Secret, out var key, out var error)
            ? key
            : throw new AuthConfigurationException($"{path}: {error}; delete it to make a new key");
    }

    private static FileStreamOptions Options()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        return options;
    }
}
