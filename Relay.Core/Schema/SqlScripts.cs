using System.Security.Cryptography;
using System.Text;

namespace Relay.Core.Schema;

/// <summary>The <c>sql/</c> files embedded in this assembly, in the order <c>sql/install.sql</c> gives.</summary>
public static class SqlScripts
{
    private const string Manifest = "install.sql";
    private const string Include = "\\ir ";

    /// <summary>Every script in install order; throws if the manifest names a file that is not embedded.</summary>
    public static IReadOnlyList<SqlScript> All { get; } = Load();

    /// <summary>The text of one embedded file under <c>sql/</c>, e.g. <c>ops/health.sql</c>.</summary>
    public static string Read(string path)
    {
        var assembly = typeof(SqlScripts).Assembly;
        using var stream = assembly.GetManifestResourceStream("sql/" + path)
            ?? throw new InvalidOperationException($"sql/{path} is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static List<SqlScript> Load()
    {
        var scripts = new List<SqlScript>();
        foreach (var line in Read(Manifest).Split('\n'))
        {
            if (!line.StartsWith(Include, StringComparison.Ordinal))
            {
                continue;
            }
            var path = line[Include.Length..].Trim();
            var text = Read(path);
            scripts.Add(new SqlScript(path, text, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))));
        }
        return scripts;
    }
}

