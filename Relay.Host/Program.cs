namespace Relay.Host;

/// <summary>The <c>relay</c> executable.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main() => 0;
}
