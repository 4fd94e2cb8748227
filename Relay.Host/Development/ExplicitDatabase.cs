namespace Relay.Host.Development;

/// <summary>A database named by an explicit connection string: the relay neither starts nor stops it.</summary>
internal sealed class ExplicitDatabase(string connectionString) : ProvisionedDatabase
{
    public override string ConnectionString { get; } = connectionString;

    public override string Description => "explicit connection string";

    public override Task RestartAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("the relay cannot restart a database it did not start");

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
