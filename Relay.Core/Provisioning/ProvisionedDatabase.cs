namespace Relay.Core.Provisioning;

/// <summary>A PostgreSQL database the relay or the tests were given or started; disposing stops what was started.</summary>
public abstract class ProvisionedDatabase : IAsyncDisposable
{
    /// <summary>An Npgsql connection string to the database.</summary>
    public abstract string ConnectionString { get; }

    /// <summary>Where the database comes from, for logs: "explicit connection string", "local cluster at …", "container …".</summary>
    public abstract string Description { get; }

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}
