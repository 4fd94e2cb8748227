using Relay.Bench.E2E;
using Relay.Client;
using Relay.Core.Auth;

namespace Relay.Bench.Chaos;

/// <summary>
/// One client of the chaos run: a <see cref="DocumentCache"/> and resume points that outlive its connections, carried
/// by a <see cref="RelayClient"/> on one node at a time. Until told to settle it churns: drops its socket, leaves and
/// comes back later, or moves to another node, and it moves whenever its connection fails (its node was killed,
/// stalled, or lost the database). Every update and watermark it stores goes through <see cref="OrderCheck"/>.
/// </summary>
internal sealed class ChaosClient(int id, string org, IReadOnlyList<RelayNode> nodes, IReadOnlyList<string> topics, OrderCheck order, Random random)
{
    private readonly InMemoryWatermarkStore _store = new();
    private readonly SemaphoreSlim _failed = new(0);
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly string _token = DevTokens.Mint(ServerProcess.Key, new DevTokenRequest($"chaos-{id}", org, ["chaos.*"], TimeSpan.FromHours(24)));
    private RelayClient? _client;
    private int _instance;
    private int _connection;
    private int _node;
    private volatile bool _hydrating;

    public string Org { get; } = org;

    public DocumentCache Cache { get; } = new();

    public string Name => $"client {id} ({Org}, node {_node})";

    public long UpdatesApplied { get; private set; }

    public int StaleCursors { get; private set; }

    public int Moves { get; private set; }

    public int Drops { get; private set; }

    /// <summary>Joins, churns until <paramref name="settle"/> is cancelled, then stays connected where it is.</summary>
    public async Task RunAsync(CancellationToken settle)
    {
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            await JoinAsync(random.Next(nodes.Count));
        }
        finally
        {
            _turn.Release();
        }
        while (!settle.IsCancellationRequested)
        {
            bool failed;
            try
            {
                failed = await _failed.WaitAsync(TimeSpan.FromMilliseconds(random.Next(2000, 9000)), settle);
            }
            catch (OperationCanceledException) when (settle.IsCancellationRequested)
            {
                break;
            }
            await _turn.WaitAsync(CancellationToken.None);
            try
            {
                await ChurnAsync(failed);
            }
            finally
            {
                _turn.Release();
            }
        }
    }

    /// <summary>
    /// Leaves now and comes back on the next node once <paramref name="back"/> completes: the retention fault prunes the
    /// journal meanwhile, so the client resumes from a stale cursor and must re-hydrate. Returns false, doing nothing,
    /// for a client that has not joined yet.
    /// </summary>
    public async Task<bool> AwayAsync(Task back)
    {
        await _turn.WaitAsync();
        try
        {
            if (_client is null)
            {
                return false;
            }
            await LeaveAsync();
            await back;
            // Not from the shared Random: the churn loop may be drawing from it right now.
            await JoinAsync((_node + 1) % nodes.Count);
            return true;
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task StopAsync() => await LeaveAsync();

    private async Task ChurnAsync(bool failed)
    {
        switch (failed ? 1 : random.Next(4))
        {
            case 0:
                Drops++;
                _client!.AbortConnection();
                // The drop's own failure: the client resumes on the same node by itself.
                await Task.Delay(500, CancellationToken.None);
                await DrainFailuresAsync();
                break;
            case 1 or 2:
                Moves++;
                await LeaveAsync();
                await JoinAsync(OtherNode());
                break;
            default:
                await LeaveAsync();
                await Task.Delay(random.Next(1000, 8000), CancellationToken.None);
                await JoinAsync(random.Next(nodes.Count));
                break;
        }
    }

    private async Task JoinAsync(int node)
    {
        _node = node;
        var instance = ++_instance;
        _connection = 0;
        await DrainFailuresAsync();
        var client = new RelayClient(new RelayClientOptions
        {
            Url = nodes[node].Url,
            TokenProvider = _ => ValueTask.FromResult(_token),
            Cache = Cache,
            WatermarkStore = _store,
            OnStaleCursor = HydrateAsync,
            InitialReconnectDelay = TimeSpan.FromMilliseconds(300),
            MaxReconnectDelay = TimeSpan.FromSeconds(2),
            PingInterval = TimeSpan.FromSeconds(3),
            ServerSilenceTimeout = TimeSpan.FromSeconds(8),
        });
        client.StateChanged += state => _connection += state == ConnectionState.Connected ? 1 : 0;
        client.ConnectionFailed += _ => _failed.Release();
        client.DocumentChanged += change =>
        {
            if (!_hydrating)
            {
                UpdatesApplied++;
                order.Observe($"client {id} instance {instance} connection {_connection} {change.Topic} (updates)", change.Watermark, strict: true);
            }
        };
        client.WatermarkStored += stored =>
            order.Observe($"client {id} instance {instance} connection {stored.Connection} {stored.Topic} (stored)", stored.Watermark, stored.HasUpdates);
        await client.SubscribeAsync(topics);
        client.Start();
        _client = client;
    }

    private async ValueTask<long> HydrateAsync(RelayClient client, string topic, CancellationToken cancellationToken)
    {
        StaleCursors++;
        _hydrating = true;
        try
        {
            return await client.HydrateAsync(topic, cancellationToken);
        }
        finally
        {
            _hydrating = false;
        }
    }

    private async Task LeaveAsync()
    {
        if (_client is { } client)
        {
            _client = null;
            await client.DisposeAsync();
        }
    }

    private async Task DrainFailuresAsync()
    {
        while (_failed.CurrentCount > 0)
        {
            await _failed.WaitAsync();
        }
    }

    private int OtherNode() => nodes.Count == 1 ? 0 : (_node + random.Next(1, nodes.Count)) % nodes.Count;
}
