using System.Diagnostics.Metrics;

namespace Relay.Core.Diagnostics;

/// <summary>
/// The relay's instruments on the <c>Khala.Relay</c> meter (<see href="https://learn.microsoft.com/dotnet/core/diagnostics/metrics">System.Diagnostics.Metrics</see>),
/// exported by the host at <c>/metrics</c>.
/// </summary>
public sealed class RelayMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Khala.Relay";

    private readonly Meter _meter = new(MeterName);

    /// <summary>Creates the instruments.</summary>
    public RelayMetrics()
    {
        EventsAppended = _meter.CreateCounter<long>("relay.feed.events", "{event}", "Journal events appended to topic logs");
        GapFills = _meter.CreateCounter<long>("relay.feed.gap_fills", "{fill}", "Times a topic log read missing events from the journal");
        Reconnects = _meter.CreateCounter<long>("relay.feed.reconnects", "{reconnect}", "Times the feed lost its connection and reconnected");
        FellBehind = _meter.CreateCounter<long>("relay.subscriptions.fell_behind", "{episode}", "Subscribers that fell out of the ring and caught up from the journal");
    }

    /// <summary>Events appended to topic logs, tagged by topic.</summary>
    public Counter<long> EventsAppended { get; }

    /// <summary>Gap fills, tagged by topic.</summary>
    public Counter<long> GapFills { get; }

    /// <summary>Feed reconnects, tagged by feed.</summary>
    public Counter<long> Reconnects { get; }

    /// <summary>Fell-behind episodes, tagged by topic.</summary>
    public Counter<long> FellBehind { get; }

    /// <summary>Publishes per-topic heads and the feed lag from the given source.</summary>
    public void Observe(Func<IEnumerable<Measurement<long>>> heads, Func<double> lagSeconds)
    {
        _meter.CreateObservableGauge("relay.topic.head", heads, "{watermark}", "Head watermark of each topic log");
        _meter.CreateObservableGauge("relay.feed.lag", lagSeconds, "s", "Now minus the commit time of the newest event appended");
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
