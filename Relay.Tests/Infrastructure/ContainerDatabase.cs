using Relay.Host.Development;
using Testcontainers.PostgreSql;

namespace Relay.Tests;

/// <summary>A throwaway PostgreSQL in a Docker container (Testcontainers) with <c>wal_level=logical</c>.</summary>
internal sealed class ContainerDatabase : ProvisionedDatabase
{
    /// <summary>The image used when no local PostgreSQL binaries exist.</summary>
    public const string Image = "postgres:15";

    private readonly PostgreSqlContainer _container;

    private ContainerDatabase(PostgreSqlContainer container) => _container = container;

    public override string ConnectionString => _container.GetConnectionString();

    public override string Description => $"container {Image} ({_container.Id[..12]})";

    public static async Task<ContainerDatabase> StartAsync(CancellationToken cancellationToken = default)
    {
        // A fixed host port, so that a restarted container is found at the same address.
        var container = new PostgreSqlBuilder(Image)
            .WithPortBinding(FreePort.Next(), PostgreSqlBuilder.PostgreSqlPort)
            .WithDatabase("relay")
            .WithCommand("-c", "wal_level=logical", "-c", "max_wal_senders=32", "-c", "max_replication_slots=32", "-c", "max_connections=300")
            .Build();
        await container.StartAsync(cancellationToken);
        return new ContainerDatabase(container);
    }

    public override async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _container.StopAsync(cancellationToken);
        await _container.StartAsync(cancellationToken);
    }

    public override ValueTask DisposeAsync() => _container.DisposeAsync();
}
