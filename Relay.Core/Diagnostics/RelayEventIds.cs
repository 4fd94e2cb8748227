namespace Relay.Core.Diagnostics;

/// <summary>Logging event id ranges, one range per subsystem (as Npgsql's <c>NpgsqlEventId</c>).</summary>
public static class RelayEventIds
{
    /// <summary>PostgreSQL provisioning: 1000–1099.</summary>
    public const int Provisioning = 1000;

    /// <summary>Schema migrations: 1100–1199.</summary>
    public const int Schema = 1100;

    /// <summary>The journal feed: 1200–1299.</summary>
    public const int Feed = 1200;

    /// <summary>Token verification and signing keys: 1300–1399.</summary>
    public const int Auth = 1300;

    /// <summary>The host, its endpoints and CLI: 2000–2099.</summary>
    public const int Host = 2000;
}
