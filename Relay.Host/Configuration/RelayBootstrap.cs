using Npgsql;

namespace Relay.Host.Configuration;

/// <summary>
/// The one start every verb shares: the same configuration sources, the same logging, the same PostgreSQL data source.
/// <c>serve</c> and <c>up</c> add their settings to the web host's configuration; the other verbs read
/// <see cref="Configuration"/>.
/// </summary>
internal static class RelayBootstrap
{
    /// <summary>
    /// <c>appsettings.json</c> beside the executable, then environment variables (<c>Relay__…</c>), then
    /// <paramref name="settings"/>, the verb's own options as configuration keys (<c>Relay:ConnectionString</c>).
    /// </summary>
    public static IConfiguration Configuration(IReadOnlyDictionary<string, string?>? settings = null) =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();

    /// <summary>
    /// Single-line console logs filtered by the <c>Logging</c> section. With <paramref name="toStandardError"/>, all of it
    /// goes to standard error, which leaves standard output to a verb's answer (JSON lines, a token).
    /// </summary>
    public static ILoggerFactory CreateLoggerFactory(IConfiguration configuration, bool toStandardError) =>
        LoggerFactory.Create(builder => builder
            .AddConfiguration(configuration.GetSection("Logging"))
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = toStandardError ? LogLevel.Trace : LogLevel.None));

    /// <summary>
    /// A data source on <paramref name="connectionString"/> whose own logs (Npgsql's connection and command events) go to
    /// <paramref name="loggerFactory"/>; <paramref name="maxPoolSize"/> replaces the connection string's when given.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, ILoggerFactory loggerFactory, int? maxPoolSize = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (maxPoolSize is { } size)
        {
            builder.ConnectionStringBuilder.MaxPoolSize = size;
        }
        return builder.UseLoggerFactory(loggerFactory).Build();
    }
}
