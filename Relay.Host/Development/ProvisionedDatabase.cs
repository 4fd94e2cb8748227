namespace Relay.Host.Development;

/// <summary>A PostgreSQL database the relay or the tests were given or started; disposing stops what was started.</summary>
public abstract class ProvisionedDatabase : IAsyncDisposable
{
    /// <summary>An Npgsql connection string to the database.</summary>
    public abstract string ConnectionString { get; }

    /// <summary>Where the database comes from, for logs: "explicit connection string", "local cluster at …", "container …".</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Restarts the server (a fast shutdown, then a start on the same address), dropping every connection: the failure
    /// a relay must survive. Not possible for a database the relay did not start.
    /// </summary>
    /// <exception cref="NotSupportedException">The database was given by a connection string.</exception>
    public abstract Task RestartAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}
