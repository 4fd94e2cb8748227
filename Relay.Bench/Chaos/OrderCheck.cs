namespace Relay.Bench.Chaos;

/// <summary>
/// Checks that within one connection each topic's watermarks only grow: strictly from one update (or batch of updates)
/// to the next, and never back for a heartbeat. Streams are named by the caller (client, instance, connection, topic).
/// </summary>
internal sealed class OrderCheck
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];

    /// <summary>Watermarks checked.</summary>
    public long Checked { get; private set; }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    public void Observe(string stream, long watermark, bool strict)
    {
        lock (_lock)
        {
            Checked++;
            if (_last.TryGetValue(stream, out var last) && (strict ? watermark <= last : watermark < last))
            {
                _violations.Add($"{stream}: watermark {watermark} after {last}{(strict ? " with updates" : "")}");
            }
            _last[stream] = watermark;
        }
    }
}
