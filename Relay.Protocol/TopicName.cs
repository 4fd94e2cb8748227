namespace Relay.Protocol;

/// <summary>
/// The topic name rule of CONTRACT.md §2, <c>^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$</c> and at most 128 characters: the
/// one rule token scopes, <c>Subscribe</c> and the SQL (<c>sql/functions/check_topic_name.sql</c>) agree on. Written out
/// by hand because it runs for every scope entry of every token.
/// </summary>
public static class TopicName
{
    /// <summary>The longest topic name: 128 characters.</summary>
    public const int MaxLength = 128;

    /// <summary>The rule in words, for the messages that refuse a name.</summary>
    public const string Rule = "lowercase segments of letters, digits and '_', each starting with a letter, joined by '.', at most 128 characters";

    /// <summary>Whether <paramref name="name"/> is a topic name.</summary>
    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxLength)
        {
            return false;
        }
        var segmentStart = true;
        foreach (var c in name)
        {
            if (c == '.')
            {
                if (segmentStart)
                {
                    return false;
                }
                segmentStart = true;
            }
            else if (char.IsAsciiLetterLower(c) || (!segmentStart && (char.IsAsciiDigit(c) || c == '_')))
            {
                segmentStart = false;
            }
            else
            {
                return false;
            }
        }
        return !segmentStart;
    }
}
