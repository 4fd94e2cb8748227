using Relay.Bench.E2E;
using Relay.Client;
using Relay.Host.Development;

namespace Relay.Bench.Chaos;

/// <summary>
/// One client of the chaos run: a <see cref="DocumentCache"/> and resume points that outlive its connections, carried
/// by a <see cref="RelayClient"/> on one node at a time. Until told to settle it churns: drops its socket, leaves and
/// comes back later, or moves to another node, and it moves whenever its connection fails (its node was killed,
/// stalled, or lost the database). Every update and watermark it stores goes through <see cref="OrderCheck"/>.
/// </summary>
internal sealed partial class ChaosClient(int id, string org, IReadOnlyList<RelayNode> nodes, IReadOnlyList<string> topics, OrderCheck order, Random random)
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

    public async Task StopAsync() => await LeaveAsync();

    /// <summary>The resume point the client would subscribe to <paramref name="topic"/> from.</summary>
    public ValueTask<ResumePoint> ResumePointAsync(string topic) => _store.GetAsync(topic);

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
