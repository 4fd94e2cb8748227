namespace Relay.Core.Schema;

/// <summary>One file of <c>sql/</c>, as listed by <c>sql/install.sql</c>.</summary>
/// <param name="Path">The path relative to <c>sql/</c>, e.g. <c>migrations/0001_schema.sql</c>.</param>
/// <param name="Text">The SQL.</param>
/// <param name="Checksum">Hex SHA-256 of the text, recorded when applied.</param>
public sealed record SqlScript(string Path, string Text, string Checksum)
{
    /// <summary>
    /// Files under <c>functions/</c> are <c>CREATE OR REPLACE</c> and re-applied when they change; the others are
    /// migrations, applied once.
    /// </summary>
    public bool Repeatable => Path.StartsWith("functions/", StringComparison.Ordinal);
}
