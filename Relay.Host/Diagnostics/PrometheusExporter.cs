using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;
using Relay.Core.Diagnostics;

namespace Relay.Host.Diagnostics;

/// <summary>
/// Exports one <see cref="RelayMetrics"/> in Prometheus conventions on a registry of its own (so that two relays in one
/// process never mix). prometheus-net's own <c>MeterAdapter</c> prefixes the meter name (<c>khala_relay_relay_…</c>),
/// exports counters as gauges and creates series on the first measurement; this listener names each instrument
/// <c>khala_</c> + its name + its unit (<c>_seconds</c>, <c>_bytes</c>) + <c>_total</c> for counters, creates the collector
/// when the instrument is published, and drops gauge series that were not observed in a scrape.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly RelayMetrics _metrics;
    private readonly IMetricFactory _factory;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Exported> _exported = new();
    private readonly Lock _scrape = new();

    public PrometheusExporter(RelayMetrics metrics)
    {
        _metrics = metrics;
        _factory = Metrics.WithCustomRegistry(Registry);
        DotNetStats.Register(Registry);
        _listener.InstrumentPublished = Publish;
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        Registry.AddBeforeCollectCallback(ObserveGauges);
    }

    /// <summary>What <c>/metrics</c> serves: the relay's series and the process's (<c>process_*</c>, <c>dotnet_*</c>).</summary>
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    /// <summary>The Prometheus name of an instrument, e.g. <c>relay.catchup.duration</c> in s → <c>khala_relay_catchup_duration_seconds</c>.</summary>
    public static string PrometheusName(Instrument instrument)
    {
        var name = "khala_" + instrument.Name.Replace('.', '_');
        var unit = instrument.Unit switch
        {
            "s" => "_seconds",
            "By" => "_bytes",
            _ => "",
        };
        if (!name.EndsWith(unit, StringComparison.Ordinal))
        {
            name += unit;
        }
        return instrument is Counter<long> ? name + "_total" : name;
    }

    public void Dispose() => _listener.Dispose();

    private void Publish(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter != _metrics.Meter)
        {
            return;
        }
        var name = PrometheusName(instrument);
        var labels = _metrics.TagNamesOf(instrument).ToArray();
        var help = instrument.Description ?? name;
        _exported[instrument] = instrument switch
        {
            Counter<long> => new Exported(_factory.CreateCounter(name, help, labels), labels),
            Histogram<double> histogram => new Exported(_factory.CreateHistogram(name, help, labels, new HistogramConfiguration
            {
                Buckets = histogram.Advice?.HistogramBucketBoundaries?.ToArray() ?? Histogram.ExponentialBuckets(0.001, 2, 16),
            }), labels),
            _ => new Exported(_factory.CreateGauge(name, help, labels), labels),
        };
        listener.EnableMeasurementEvents(instrument);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_exported.TryGetValue(instrument, out var exported))
        {
            return;
        }
        var values = new string[exported.Labels.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = "";
            foreach (var tag in tags)
            {
                if (tag.Key == exported.Labels[i])
                {
                    values[i] = tag.Value?.ToString() ?? "";
                }
            }
        }
        switch (exported.Collector)
        {
            case Counter counter:
                (values.Length == 0 ? counter : (ICounter)counter.WithLabels(values)).Inc(value);
                break;
            case Histogram histogram:
                (values.Length == 0 ? histogram : (IHistogram)histogram.WithLabels(values)).Observe(value);
                break;
            case Gauge gauge:
                (values.Length == 0 ? gauge : (IGauge)gauge.WithLabels(values)).Set(value);
                exported.Observed.TryAdd(string.Join('\0', values), 0);
                break;
        }
    }

    /// <summary>Reads every gauge now, then removes the label sets (a topic, a slot) no longer reported.</summary>
    private void ObserveGauges()
    {
        lock (_scrape)
        {
            ObserveGaugesOnce();
        }
    }

    private void ObserveGaugesOnce()
    {
        foreach (var exported in _exported.Values)
        {
            exported.Observed.Clear();
        }
        _listener.RecordObservableInstruments();
        foreach (var exported in _exported.Values)
        {
            if (exported.Collector is Gauge gauge && exported.Labels.Length > 0)
            {
                foreach (var values in gauge.GetAllLabelValues().Where(v => !exported.Observed.ContainsKey(string.Join('\0', v))).ToList())
                {
                    gauge.RemoveLabelled(values);
                }
            }
        }
    }

    private sealed record Exported(Collector Collector, string[] Labels)
    {
        public ConcurrentDictionary<string, byte> Observed { get; } = new();
    }
}
