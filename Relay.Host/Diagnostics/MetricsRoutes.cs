using Prometheus;

namespace Relay.Host.Diagnostics;

/// <summary>Registers the relay's gauges and exporter, and maps <c>/metrics</c> and the status page.</summary>
internal static class MetricsRoutes
{
    public static IServiceCollection AddRelayMetrics(this IServiceCollection services)
    {
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<SyncGauges>();
        services.AddSingleton<DatabaseGauges>();
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseGauges>());
        return services;
    }

    /// <summary>Starts listening to the meter before anything is measured, and serves it at <c>/metrics</c>.</summary>
    public static void MapRelayMetrics(this WebApplication app)
    {
        var exporter = app.Services.GetRequiredService<PrometheusExporter>();
        app.Services.GetRequiredService<SyncGauges>();
        app.MapMetrics("/metrics", exporter.Registry);
        app.MapStatusPage();
    }
}
