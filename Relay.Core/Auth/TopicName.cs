namespace Relay.Core.Auth;

/// <summary>
/// The topic name rule of CONTRACT.md §2, <c>^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$</c> and at most 128 characters,
/// written out by hand because it runs for every scope entry of every token.
/// </summary>
internal static class TopicName
{
    public const int MaxLength = 128;

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
