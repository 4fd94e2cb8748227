namespace Relay.Host.Hosting;

/// <summary>The methods the relay's read endpoints answer.</summary>
internal static class ReadMethods
{
    /// <summary>
    /// GET, and HEAD, which HTTP tooling, CDNs and load balancers probe with: the same status and headers, without the
    /// body (Kestrel sends none for HEAD).
    /// </summary>
    public static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];
}
