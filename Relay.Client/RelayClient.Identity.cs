namespace Relay.Client;

public sealed partial class RelayClient
{
    private readonly SemaphoreSlim _identityLock = new(1, 1);
    private volatile bool _loaded;
    private volatile SyncIdentity? _identity;
    private volatile bool _identityChanged;

    /// <summary>
    /// The identity (org and subject) whose documents and watermarks the client holds: that of the token it loaded its
    /// state with. Null before it has loaded any, or when the token names none.
    /// </summary>
    public SyncIdentity? Identity => _identity;

    /// <summary>
    /// Makes the identity <paramref name="token"/> names the one in force. The first time, and whenever it differs from
    /// the one in force, the store is loaded for it: its state is kept only if it is that identity's. Otherwise (and
    /// always when another identity was in force) the client drops every document and watermark it holds, raising
    /// <see cref="DocumentChanged"/> with a deletion for each document, and hydrates from scratch. What it holds of a
    /// topic the token's scopes do not cover is dropped the same way. Called only where no connection applies updates:
    /// before connecting.
    /// </summary>
    private async Task AdoptIdentityAsync(string token, bool loadOnly, CancellationToken cancellationToken)
    {
        var (_, identity, scopes) = TokenClaims.Read(token);
        await _identityLock.WaitAsync(cancellationToken);
        try
        {
            // loadOnly (LoadAsync, or an HTTP request before the first connection): the run loop may be connected by now,
            // and only the run loop switches identity, where no connection applies updates.
            if (_loaded && (loadOnly || identity == _identity))
            {
                return;
            }
            var switched = _loaded;
            var kept = await _options.WatermarkStore.LoadAsync(identity, cancellationToken);
            _identity = identity;
            _loaded = true;
            if (switched || !kept)
            {
                DropState();
            }
            // Saved state of a topic the token does not cover is not shown, not even offline before the relay refuses it.
            foreach (var topic in _options.Cache.Topics.Where(topic => scopes?.Allows(topic) == false))
            {
                await ForgetAsync(topic, cancellationToken);
            }
            foreach (var topic in SubscribedTopics())
            {
                _watermarks[topic] = (await _options.WatermarkStore.GetAsync(topic, cancellationToken)).Watermark;
            }
        }
        finally
        {
            _identityLock.Release();
        }
    }

    /// <summary>Forgets every document and watermark held, and tells the app each document is gone.</summary>
    private void DropState()
    {
        var dropped = _options.Cache.Clear();
        _watermarks.Clear();
        _epochs.Clear();
        _caughtUp.Clear();
        foreach (var byTopic in dropped.GroupBy(entry => entry.Topic, entry => entry.Document))
        {
            RaiseDeletions(byTopic.Key, byTopic, 0);
        }
    }

    /// <summary>
    /// A token for an HTTP request. One of another identity than the state in force is not used: the connection ends
    /// and the client reconnects, switching identity before it does.
    /// </summary>
    private async ValueTask<string> RequestTokenAsync(CancellationToken cancellationToken)
    {
        var token = await ProvideTokenAsync(cancellationToken);
        if (!_loaded)
        {
            await AdoptIdentityAsync(token, loadOnly: true, cancellationToken);
        }
        if (TokenClaims.Read(token).Identity is var identity && identity != _identity)
        {
            throw new IdentityChangedException(_identity, identity);
        }
        return token;
    }

    private List<string> SubscribedTopics()
    {
        lock (_lock)
        {
            return [.. _topics];
        }
    }

    /// <summary>
    /// The token provider now gives tokens of another identity than the state in force. Ending a connection, it makes
    /// the run loop reconnect at once, switching identity; thrown to a caller of <see cref="HydrateAsync"/> otherwise.
    /// </summary>
    private sealed class IdentityChangedException(SyncIdentity? held, SyncIdentity? token)
        : InvalidOperationException($"the token names {Describe(token)}, not {Describe(held)} whose state the client holds: it is not used; the client drops that state and hydrates afresh when it next connects")
    {
        private static string Describe(SyncIdentity? identity) => identity?.ToString() ?? "no identity";
    }
}
