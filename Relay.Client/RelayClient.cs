using System.Collections.Concurrent;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;
using Relay.Protocol;

namespace Relay.Client;

/// <summary>
/// A live, resumable copy of a relay's topics (docs/protocol/WS_MAPPING.md). Connects to <c>/sync/v1/ws</c>,
/// subscribes to each topic from its stored watermark, applies updates to <see cref="Documents"/> monotonically
/// by <c>(doc_key, doc_version)</c>, stores watermarks after every batch and heartbeat, fetches omitted payloads
/// over HTTP, re-hydrates a topic on <c>STALE_CURSOR</c>, refreshes its token before it expires, and reconnects
/// with backoff after any close or failure until disposed. Events are raised on the client's receive loop, one
/// at a time: handlers should return quickly. A handler that throws while connected fails the connection (reported
/// through <see cref="ConnectionFailed"/>); what a handler throws between connections is ignored.
/// </summary>
public sealed partial class RelayClient : IAsyncDisposable
{
    private readonly RelayClientOptions _options;
    private readonly HydrationClient _hydration;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<string> _topics = new(StringComparer.Ordinal);
    /// <summary>Topics refused with <c>FORBIDDEN_TOPIC</c>, with the token they were refused under.</summary>
    private readonly Dictionary<string, string> _forbidden = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _watermarks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _caughtUp = new(StringComparer.Ordinal);
    private Task _run = Task.CompletedTask;
    private ConnectionState _state = ConnectionState.Disconnected;
    private Task? _disposal;
    /// <summary>Set while the receive loop runs <see cref="RelayClientOptions.OnStaleCursor"/>: where <see cref="HydrateAsync"/> may run.</summary>
    private readonly AsyncLocal<bool> _inStaleCursorHandler = new();
    /// <summary>
    /// Deletions of documents the cache no longer holds, not yet raised: a handler that throws ends the connection, and
    /// neither a replay nor a re-hydration could find them again. Raised first by the next connection or re-hydration.
    /// </summary>
    private readonly Queue<DocumentChange> _deletionsToRaise = new();

    /// <summary>A client that does nothing until <see cref="Start"/>.</summary>
    public RelayClient(RelayClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.WatermarkStore is FileWatermarkStore file && !ReferenceEquals(file.Cache, options.Cache))
        {
            throw new ArgumentException(
                "the FileWatermarkStore saves the documents of another DocumentCache than RelayClientOptions.Cache: pass the same cache to both", nameof(options));
        }
        _options = options;
        _hydration = new HydrationClient(options, RequestTokenAsync);
    }

    /// <summary>
    /// Raised for every change applied to the cache: an update, a deletion (<see cref="CachedDocument.Deleted"/>), and, on
    /// a re-hydration, every document read and a deletion for every document dropped (<see cref="HydrateAsync"/>). Not for
    /// updates ignored as older than the version held. At least once: a change held past the stored watermark, whose
    /// batch did not end (its handler threw, the client was disposed, the process stopped after a save), is raised
    /// again when the relay sends it again; handle changes idempotently by <c>(doc_key, doc_version)</c>.
    /// </summary>
    public event Action<DocumentChange>? DocumentChanged;

    /// <summary>Raised when the connection's state changes.</summary>
    public event Action<ConnectionState>? StateChanged;

    /// <summary>Raised with a topic whose replay has ended on the current connection: from then on it is live.</summary>
    public event Action<string>? CaughtUp;

    /// <summary>Raised for every <c>Error</c> the relay sends; the client reacts to it by itself (WS_MAPPING.md §8).</summary>
    public event Action<Error>? ErrorReceived;

    /// <summary>
    /// Raised when a connection fails or ends with an exception (an event handler's included), before the client
    /// reconnects. What its own handler throws is ignored.
    /// </summary>
    public event Action<Exception>? ConnectionFailed;

    /// <summary>Raised with every watermark stored, and the connection it came on (tests check their order).</summary>
    internal event Action<WatermarkObservation>? WatermarkStored;

    /// <summary>The connection's state.</summary>
    public ConnectionState State => _state;

    /// <summary>The cache the client applies updates to.</summary>
    public DocumentCache Cache => _options.Cache;

    /// <summary>Starts connecting in the background. Calling it again does nothing.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_run.IsCompleted && !_stop.IsCancellationRequested)
            {
                _run = Task.Run(() => RunAsync(_stop.Token));
            }
        }
    }

    /// <summary>
    /// Loads the saved state, unless it was loaded already: asks the <see cref="RelayClientOptions.TokenProvider"/> for a
    /// token and loads <see cref="RelayClientOptions.WatermarkStore"/> for its identity (<see cref="Identity"/>), so that
    /// <see cref="Documents"/> and <see cref="Watermark"/> serve the saved copy before, or without, any connection.
    /// <see cref="Start"/> does it too, before it first connects; await this to show the saved copy at once. Loading raises
    /// no <see cref="DocumentChanged"/>: read <see cref="Documents"/> after it.
    /// </summary>
    /// <exception cref="InvalidDataException">The store's file is not a saved state.</exception>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        if (!_loaded)
        {
            await AdoptIdentityAsync(await ProvideTokenAsync(cancellationToken), loadOnly: true, cancellationToken);
        }
    }

    /// <summary>
    /// Adds topics to follow, each from its watermark in <see cref="RelayClientOptions.WatermarkStore"/> (0 when none is
    /// stored). When connected, subscribes to them right away; otherwise with the next connection.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a topic name (CONTRACT.md §2, <c>^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$</c>, at most 128 characters; none is added).</exception>
    /// <exception cref="InvalidOperationException">The client would follow more than 256 topics, which a connection may not (none is added).</exception>
    public async Task SubscribeAsync(IEnumerable<string> topics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        List<string> wanted = [.. topics];
        if (wanted.FindIndex(topic => topic is null || !TopicName.IsValid(topic)) is >= 0 and var at)
        {
            var invalid = wanted[at] is { } name ? $"'{name}'" : "null";
            // The relay would refuse the whole Subscribe, and with it every other topic sent beside this one.
            throw new ArgumentException(
                $"{invalid} is not a topic name: {TopicName.Rule}",
                nameof(topics));
        }
        List<string> added;
        ClientWebSocket? socket;
        lock (_lock)
        {
            var followed = _topics.Count + _forbidden.Count;
            var more = wanted.Distinct(StringComparer.Ordinal).Count(topic => !_topics.Contains(topic) && !_forbidden.ContainsKey(topic));
            if (followed + more > MaxTopicsPerConnection)
            {
                // The relay would refuse the Subscribe with BAD_REQUEST, naming no topic, on every connection.
                throw new InvalidOperationException(
                    $"a client follows at most {MaxTopicsPerConnection} topics (the relay's default Relay:Sync:MaxTopicsPerConnection); it follows {followed} and was asked for {more} more: use a second RelayClient for the rest");
            }
            added = [.. wanted.Where(_topics.Add)];
            added.ForEach(topic => _forbidden.Remove(topic));
            socket = _subscribedSocket;
        }
        if (added.Count > 0 && socket is not null)
        {
            await SubscribeOnAsync(socket, added, cancellationToken);
        }
        else if (_loaded)
        {
            // Not connected: Watermark tells how far the saved copy goes until the next connection subscribes.
            foreach (var topic in added)
            {
                _watermarks[topic] = (await _options.WatermarkStore.GetAsync(topic, cancellationToken)).Watermark;
            }
        }
    }

    /// <summary>A snapshot of <paramref name="topic"/>'s documents by doc_key; a deleted document is not listed (<see cref="DocumentCache.Entries"/> holds its tombstone).</summary>
    public IReadOnlyDictionary<string, CachedDocument> Documents(string topic) => _options.Cache.Documents(topic);

    /// <summary>The watermark <paramref name="topic"/> was last brought up to (0 before any).</summary>
    public long Watermark(string topic) => _watermarks.GetValueOrDefault(topic);

    /// <summary>Whether <paramref name="topic"/>'s replay has ended on the current connection.</summary>
    public bool IsCaughtUp(string topic) => _caughtUp.ContainsKey(topic);

    /// <summary>
    /// Re-reads <paramref name="topic"/> through <c>GET /sync/v1/list</c> (every page), replaces its cache entries with
    /// the documents read and returns the first page's watermark, to subscribe from. The default stale-cursor reaction.
    /// Raises <see cref="DocumentChanged"/> with a tombstone (of the version held) for every document held that the list
    /// no longer has (deleted meanwhile, or no longer visible) and for every deletion applied past the stored watermark
    /// (see <see cref="DocumentCache.Replace"/>), then for every document read, all with the list's watermark.
    /// </summary>
    /// <exception cref="PayloadHashMismatchException">A document does not match its payload_hash; the cache is left as it was.</exception>
    /// <exception cref="InvalidOperationException">
    /// The client is running and this is not its <see cref="RelayClientOptions.OnStaleCursor"/> handler: the snapshot
    /// could be older than updates the client applied meanwhile, and its events would overlap the client's.
    /// </exception>
    public async ValueTask<long> HydrateAsync(string topic, CancellationToken cancellationToken = default)
    {
        if (!_run.IsCompleted && !_inStaleCursorHandler.Value)
        {
            throw new InvalidOperationException(
                "HydrateAsync re-reads a topic for the stale-cursor reaction (RelayClientOptions.OnStaleCursor), on the client's receive loop; while the client runs, it may not be called elsewhere: its snapshot could be older than what the client applied");
        }
        var (watermark, documents) = await _hydration.ListAsync(topic, cancellationToken);
        if (_options.VerifyPayloadHashes)
        {
            documents.ForEach(document => PayloadVerification.Verify(topic, document));
        }
        RaiseDeletions(topic, _options.Cache.Replace(topic, documents), watermark);
        foreach (var document in documents)
        {
            DocumentChanged?.Invoke(new DocumentChange(topic, document, watermark));
        }
        return watermark;
    }

    /// <summary>
    /// Raises a deletion (a tombstone of the version held) for each of <paramref name="removed"/>, after those left from
    /// before; one whose handler throws stays, with those after it, for the next call or connection (see
    /// <see cref="_deletionsToRaise"/>).
    /// </summary>
    private void RaiseDeletions(string topic, IEnumerable<CachedDocument> removed, long watermark)
    {
        lock (_deletionsToRaise)
        {
            foreach (var document in removed)
            {
                _deletionsToRaise.Enqueue(new DocumentChange(topic, CachedDocument.Tombstone(document.DocKey, document.DocVersion), watermark));
            }
        }
        RaiseLeftDeletions();
    }

    /// <summary>Raises the deletions left by a handler that threw, in order, each taken off once its handlers returned.</summary>
    private void RaiseLeftDeletions()
    {
        while (!_stop.IsCancellationRequested)
        {
            DocumentChange change;
            lock (_deletionsToRaise)
            {
                if (!_deletionsToRaise.TryPeek(out change!))
                {
                    return;
                }
            }
            DocumentChanged?.Invoke(change);
            lock (_deletionsToRaise)
            {
                _deletionsToRaise.Dequeue();
            }
        }
    }

    /// <summary>
    /// Closes the connection (1000), stops reconnecting and flushes the <see cref="RelayClientOptions.WatermarkStore"/>
    /// (<see cref="IWatermarkStore.FlushAsync"/>), whose failure it throws once the client is stopped. A batch being
    /// applied stops after the handler in progress: no <see cref="DocumentChanged"/> is raised after that, and the rest
    /// of the batch comes again with the next start. Calling it again waits for the same disposal.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        // A second call, even while the first runs, waits for the same disposal (the state flushed).
        lock (_lock)
        {
            _disposal ??= DisposeOnceAsync();
            return new ValueTask(_disposal);
        }
    }

    private async Task DisposeOnceAsync()
    {
        await CloseAsync();
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
            // Stopped while connecting or waiting.
        }
        RaiseOutsideConnection(() => SetState(ConnectionState.Stopped));
        _hydration.Dispose();
        _stop.Dispose();
        await _options.WatermarkStore.FlushAsync();
    }

    private void SetState(ConnectionState state)
    {
        _state = state;
        StateChanged?.Invoke(state);
    }
}
