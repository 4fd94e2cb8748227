using System.Diagnostics.CodeAnalysis;

namespace Relay.Protocol;

/// <summary>
/// The topics a token may subscribe to, from its <c>oa_sync_scopes</c> claim. Each entry is either an exact topic name
/// (<c>runtime.run_summaries</c>) or a prefix followed by <c>.*</c> (<c>runtime.*</c>), which covers every topic under
/// <c>runtime.</c> at any depth, but neither <c>runtime</c> itself nor <c>runtimefoo</c>. There is no entry that covers
/// every topic. A malformed entry refuses the whole token.
/// </summary>
public sealed class TopicScopes
{
    private const string PrefixSuffix = ".*";

    private readonly string[] _exact;
    private readonly string[] _prefixes;

    private TopicScopes(string[] entries, string[] exact, string[] prefixes)
    {
        Entries = entries;
        _exact = exact;
        _prefixes = prefixes;
    }

    /// <summary>No topic at all.</summary>
    public static TopicScopes None { get; } = new([], [], []);

    /// <summary>The entries as the token gave them, in order.</summary>
    public IReadOnlyList<string> Entries { get; }

    /// <summary>Whether <paramref name="topic"/> is covered by an exact entry or by a <c>prefix.*</c> entry.</summary>
    public bool Allows(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        // Tokens carry a handful of entries: a linear scan beats hashing and allocates nothing.
        foreach (var exact in _exact)
        {
            if (string.Equals(exact, topic, StringComparison.Ordinal))
            {
                return true;
            }
        }
        foreach (var prefix in _prefixes)
        {
            if (topic.Length > prefix.Length && topic.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Builds the scopes from a list of entries, or names the first malformed entry in <paramref name="error"/>.
    /// An empty list is valid and allows nothing.
    /// </summary>
    public static bool TryCreate(
        IReadOnlyList<string> entries, [NotNullWhen(true)] out TopicScopes? scopes, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var all = new string[entries.Count];
        var exact = new List<string>(entries.Count);
        var prefixes = new List<string>();
        for (var i = 0; i < all.Length; i++)
        {
            var entry = entries[i];
            if (entry is null)
            {
                return Invalid($"entry {i} is null", out scopes, out error);
            }
            if (entry.EndsWith(PrefixSuffix, StringComparison.Ordinal) && TopicName.IsValid(entry.AsSpan(0, entry.Length - 2)))
            {
                // Keep the dot so that "runtime.*" matches "runtime.x" and not "runtimex".
                prefixes.Add(entry[..^1]);
            }
            else if (TopicName.IsValid(entry))
            {
                exact.Add(entry);
            }
            else
            {
                return Invalid($"'{entry}' is neither a topic name nor 'prefix.*'", out scopes, out error);
            }
            all[i] = entry;
        }
        scopes = new TopicScopes(all, [.. exact], [.. prefixes]);
        error = null;
        return true;
    }

    /// <summary>
    /// Builds the scopes from entries separated by spaces (the form of OAuth's <c>scope</c> claim, RFC 8693 §4.2);
    /// commas are accepted as separators too, for command lines.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out TopicScopes? scopes, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryCreate(text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries), out scopes, out error);
    }

    /// <summary>The entries separated by spaces.</summary>
    public override string ToString() => string.Join(' ', Entries);

    private static bool Invalid(string message, out TopicScopes? scopes, out string? error)
    {
        scopes = null;
        error = message;
        return false;
    }
}
