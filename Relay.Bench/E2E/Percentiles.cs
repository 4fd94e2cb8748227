namespace Relay.Bench.E2E;

/// <summary>Latency samples in milliseconds, summarised by nearest-rank percentiles.</summary>
internal sealed class Percentiles
{
    private readonly List<double> _samples = [];

    public int Count => _samples.Count;

    public void Add(double milliseconds)
    {
        lock (_samples)
        {
            _samples.Add(milliseconds);
        }
    }

    public double At(double percentile)
    {
        lock (_samples)
        {
            if (_samples.Count == 0)
            {
                return double.NaN;
            }
            _samples.Sort();
            var rank = (int)Math.Ceiling(percentile / 100 * _samples.Count) - 1;
            return _samples[Math.Clamp(rank, 0, _samples.Count - 1)];
        }
    }
}
