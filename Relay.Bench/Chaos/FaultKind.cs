namespace Relay.Bench.Chaos;

/// <summary>The faults the chaos run injects; the report counts each.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL of one relay node, restarted a moment later on the same port.</summary>
    RelayKill,

    /// <summary>Every node in turn: SIGTERM, wait for it to exit, start it again, wait until it is ready.</summary>
    RollingRestart,

    /// <summary><c>pg_terminate_backend</c> of every relay walsender: each node's feed reconnects.</summary>
    WalsenderTermination,

    /// <summary><c>pg_ctl restart -m fast</c>.</summary>
    PostgresRestart,

    /// <summary><c>pg_ctl stop -m immediate</c> (no checkpoint: crash recovery at the next start), then a start.</summary>
    PostgresCrash,

    /// <summary>SIGSTOP of one node for a few seconds, then SIGCONT: its clients hear nothing and some give up on it.</summary>
    RelayStall,

    /// <summary><c>relay.prune</c> of the whole journal under live clients: offline clients come back to a stale cursor.</summary>
    RetentionPrune,
}
