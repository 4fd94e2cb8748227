using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using OpenAgents.Sync.V1;

namespace Relay.Client;

public sealed partial class RelayClient
{
    /// <summary>A second <c>STALE_CURSOR</c> for a topic within this time drops the connection, so the next try backs off.</summary>
    private static readonly TimeSpan s_staleAgainWithin = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, PendingSubscribe> _pendingSubscribes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastStale = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _epochs = new(StringComparer.Ordinal);
    /// <summary>The watermark each topic was last subscribed from: the relay replays what is past it.</summary>
    private readonly ConcurrentDictionary<string, long> _resumedFrom = new(StringComparer.Ordinal);

    /// <summary>
    /// Most topics named in one <c>Subscribe</c>: the relay's default limit (<c>Relay:Sync:MaxTopicsPerSubscribe</c>);
    /// more are sent in several.
    /// </summary>
    internal const int MaxTopicsPerSubscribe = 64;

    /// <summary>Most topics one connection may follow: the relay's default (<c>Relay:Sync:MaxTopicsPerConnection</c>).</summary>
    internal const int MaxTopicsPerConnection = 256;

    private async Task SubscribeOnAsync(ClientWebSocket socket, List<string> topics, CancellationToken cancellationToken)
    {
        foreach (var part in topics.Chunk(MaxTopicsPerSubscribe))
        {
            await SubscribePartOnAsync(socket, [.. part], cancellationToken);
        }
    }

    private async Task SubscribePartOnAsync(ClientWebSocket socket, List<string> topics, CancellationToken cancellationToken)
    {
        var subscribe = new Subscribe { Topics = { topics } };
        foreach (var topic in topics)
        {
            var point = await _options.WatermarkStore.GetAsync(topic, cancellationToken);
            _watermarks[topic] = point.Watermark;
            _resumedFrom[topic] = point.Watermark;
            subscribe.ResumeAfter[topic] = point.Watermark;
            if (point.Epoch.Length > 0)
            {
                // A restored database has another epoch: the relay answers STALE_CURSOR and the client re-hydrates.
                subscribe.ResumeEpochs[topic] = point.Epoch;
            }
        }
        var envelope = new ClientEnvelope { Ref = Interlocked.Increment(ref _ref).ToString(System.Globalization.CultureInfo.InvariantCulture), Subscribe = subscribe };
        _pendingSubscribes[envelope.Ref] = new PendingSubscribe(topics, _token, Stopwatch.GetTimestamp());
        await SendAsync(socket, envelope, cancellationToken);
    }

    private async Task HandleAsync(ClientWebSocket socket, ServerEnvelope envelope, CancellationToken cancellationToken)
    {
        switch (envelope.MessageCase)
        {
            case ServerEnvelope.MessageOneofCase.UpdateBatch:
                await ApplyAsync(envelope.UpdateBatch, cancellationToken);
                break;
            case ServerEnvelope.MessageOneofCase.Heartbeat:
                LearnEpochs(envelope.Heartbeat.Epochs);
                await StoreAsync(envelope.Heartbeat.Watermarks, _ => false, cancellationToken);
                break;
            case ServerEnvelope.MessageOneofCase.Subscribed:
                _pendingSubscribes.TryRemove(envelope.Ref, out _);
                LearnEpochs(envelope.Subscribed.Epochs);
                break;
            case ServerEnvelope.MessageOneofCase.Error:
                await OnErrorAsync(socket, envelope.Ref, envelope.Error, cancellationToken);
                break;
            default:
                break;
        }
    }

    private async Task ApplyAsync(UpdateBatch batch, CancellationToken cancellationToken)
    {
        var updated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var update in batch.Updates)
        {
            // Disposing stops a batch between two handlers: what is left comes again from the stored watermark.
            cancellationToken.ThrowIfCancellationRequested();
            updated.Add(update.Topic);
            var document = update.Tombstone ? CachedDocument.Tombstone(update.DocKey, update.DocVersion)
                : update.PayloadOmitted ? await FetchOmittedAsync(update, cancellationToken)
                : new CachedDocument(update.DocKey, update.DocVersion, update.Payload.Memory, update.PayloadHash.Memory, Deleted: false);
            if (document is not null && _options.VerifyPayloadHashes)
            {
                PayloadVerification.Verify(update.Topic, document);
            }
            if (document is not null && _options.Cache.Apply(update.Topic, document, update.Watermark))
            {
                DocumentChanged?.Invoke(new DocumentChange(update.Topic, document, update.Watermark));
            }
            else if (_options.Cache.HeldPast(update.Topic, update.DocKey, update.DocVersion, _resumedFrom.GetValueOrDefault(update.Topic)) is { } again)
            {
                // Held already, but applied past the stored watermark, by a batch that did not end (a handler threw, the
                // client was disposed, the process stopped after a background save): its handler may not have finished.
                DocumentChanged?.Invoke(new DocumentChange(update.Topic, again, update.Watermark));
            }
        }
        await StoreAsync(batch.Watermarks, updated.Contains, cancellationToken);
        foreach (var topic in batch.CaughtUpTopics)
        {
            if (_caughtUp.TryAdd(topic, true))
            {
                CaughtUp?.Invoke(topic);
            }
        }
    }

    /// <summary>
    /// The document of an update sent without its payload (over 256 KiB), read over HTTP; null when the version held
    /// is already as new, or the relay no longer has it (it was deleted since: the tombstone follows).
    /// </summary>
    private async Task<CachedDocument?> FetchOmittedAsync(Update update, CancellationToken cancellationToken)
    {
        if (_options.Cache.VersionOf(update.Topic, update.DocKey) >= update.DocVersion)
        {
            return null;
        }
        var document = await _hydration.GetDocumentAsync(update.Topic, update.DocKey, cancellationToken);
        return document is not null && document.DocVersion >= update.DocVersion ? document : null;
    }

    private async Task StoreAsync(IDictionary<string, long> watermarks, Func<string, bool> hasUpdates, CancellationToken cancellationToken)
    {
        if (watermarks.Count == 0)
        {
            return;
        }
        var stored = new Dictionary<string, long>(watermarks, StringComparer.Ordinal);
        await _options.WatermarkStore.SetAsync(
            stored.ToDictionary(pair => pair.Key, pair => new ResumePoint(pair.Value, _epochs.GetValueOrDefault(pair.Key, "")), StringComparer.Ordinal),
            cancellationToken);
        foreach (var (topic, watermark) in stored)
        {
            // After the store took the resume point: a deletion at or below it cannot be undone by an older update, and
            // a change at or below it is not raised again.
            _options.Cache.ConfirmThrough(topic, watermark);
            _watermarks[topic] = watermark;
            WatermarkStored?.Invoke(new WatermarkObservation(_connection, topic, watermark, hasUpdates(topic)));
        }
    }

    private async Task OnErrorAsync(ClientWebSocket socket, string @ref, Error error, CancellationToken cancellationToken)
    {
        ErrorReceived?.Invoke(error);
        if (error.RetryAfterMs > 0)
        {
            _retryAfter = TimeSpan.FromMilliseconds(error.RetryAfterMs);
        }
        _pendingSubscribes.TryRemove(@ref, out var pending);
        var refused = pending?.Topics;
        switch (error.Code)
        {
            case ErrorCode.StaleCursor when error.Topic.Length > 0:
                await RehydrateAsync(socket, error.Topic, cancellationToken);
                break;
            case ErrorCode.ForbiddenTopic or ErrorCode.UnknownTopic when error.Topic.Length > 0:
                // Dropped until subscribed again, or, forbidden, until a newer token covers it (ReadmitCoveredTopics); a
                // refused Subscribe is resent without it.
                lock (_lock)
                {
                    _topics.Remove(error.Topic);
                }
                if (error.Code == ErrorCode.ForbiddenTopic)
                {
                    // Refused under the token its Subscribe went with, or, refused on a refresh, under the token in force.
                    lock (_lock)
                    {
                        _forbidden[error.Topic] = pending?.Token ?? _token;
                    }
                    await ForgetAsync(error.Topic, cancellationToken);
                }
                refused?.Remove(error.Topic);
                if (refused is { Count: > 0 })
                {
                    await SubscribeOnAsync(socket, refused, cancellationToken);
                }
                break;
            case ErrorCode.BadRequest when refused is not null:
                // A whole Subscribe refused (SubscribeAsync checks names, so: a relay configured with a lower limit than
                // this client's): its topics are not followed silently; reported, and tried again after backoff.
                throw new WebSocketException(WebSocketError.Faulted, $"the relay refused a Subscribe: {error.Message}");
            case ErrorCode.Unauthorized or ErrorCode.BadRequest or ErrorCode.PayloadTooLarge or ErrorCode.SlowConsumer:
                // A refused refresh leaves the old token in force; the others come before a close, or are client bugs not to resend.
                break;
            case var _ when refused is not null || error.Topic.Length > 0:
                // UNAVAILABLE, INTERNAL or a code this client does not know ended a subscription while the connection
                // goes on: reconnect, after backoff, to subscribe again.
                throw new WebSocketException(WebSocketError.Faulted, $"subscription failed: {error.Code} {error.Message}");
            default:
                break;
        }
    }

    /// <summary>
    /// Topics refused with <c>FORBIDDEN_TOPIC</c> under an earlier token that the token in force covers: followed again,
    /// so that a user granted access sees the topic fill without the application subscribing again. Returns them, for
    /// the caller to subscribe to.
    /// </summary>
    private List<string> ReadmitCoveredTopics()
    {
        var token = _token;
        var scopes = TokenClaims.Read(token).Scopes;
        lock (_lock)
        {
            List<string> readmitted = [.. _forbidden.Where(pair => pair.Value != token && scopes?.Allows(pair.Key) == true).Select(pair => pair.Key)];
            foreach (var topic in readmitted)
            {
                _forbidden.Remove(topic);
                _topics.Add(topic);
            }
            return readmitted;
        }
    }

    /// <summary>
    /// The token no longer covers <paramref name="topic"/>: what is held of it is neither shown nor kept, and the app is
    /// told each document is gone, as when the identity changes.
    /// </summary>
    private async Task ForgetAsync(string topic, CancellationToken cancellationToken)
    {
        _watermarks.TryRemove(topic, out _);
        _epochs.TryRemove(topic, out _);
        _caughtUp.TryRemove(topic, out _);
        // The resume point goes first: a store writing in the background may read the cache at any time, and must
        // never find a watermark beside fewer documents than it implies.
        await _options.WatermarkStore.SetAsync(new Dictionary<string, ResumePoint> { [topic] = ResumePoint.Start }, cancellationToken);
        var dropped = _options.Cache.Replace(topic, []);
        // Not kept on disk either, from now on rather than at the next write.
        await _options.WatermarkStore.FlushAsync(cancellationToken);
        RaiseDeletions(topic, dropped, 0);
    }

    private async Task RehydrateAsync(ClientWebSocket socket, string topic, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        if (_lastStale.TryGetValue(topic, out var last) && Stopwatch.GetElapsedTime(last, now) < s_staleAgainWithin)
        {
            _lastStale.Remove(topic);
            throw new WebSocketException(WebSocketError.Faulted, $"the cursor of {topic} went stale again at once");
        }
        _lastStale[topic] = now;
        // The topic replays again from the re-read's watermark: not caught up until that replay ends.
        _caughtUp.TryRemove(topic, out _);
        var handler = _options.OnStaleCursor ?? ((client, stale, cancel) => client.HydrateAsync(stale, cancel));
        long watermark;
        _inStaleCursorHandler.Value = true;
        try
        {
            watermark = await handler(this, topic, cancellationToken);
        }
        finally
        {
            _inStaleCursorHandler.Value = false;
        }
        // The list's snapshot is of the topic's current epoch, which Subscribed tells: resume without one.
        _epochs.TryRemove(topic, out _);
        await _options.WatermarkStore.SetAsync(new Dictionary<string, ResumePoint> { [topic] = new(watermark) }, cancellationToken);
        _watermarks[topic] = watermark;
        await SubscribeOnAsync(socket, [topic], cancellationToken);
    }

    /// <summary>The epochs a Subscribed or a heartbeat names, stored with the watermarks from then on.</summary>
    private void LearnEpochs(IDictionary<string, string> epochs)
    {
        foreach (var (topic, epoch) in epochs)
        {
            _epochs[topic] = epoch;
        }
    }

    /// <summary>The topics a <c>Subscribe</c> named and the token in force when it was sent.</summary>
    private sealed record PendingSubscribe(List<string> Topics, string Token, long SentAt);

    /// <summary>A <c>Subscribe</c> sent more than <see cref="RelayClientOptions.SubscribeTimeout"/> ago and not answered, if any.</summary>
    private PendingSubscribe? Unanswered() =>
        _pendingSubscribes.Values.FirstOrDefault(pending => Stopwatch.GetElapsedTime(pending.SentAt) > _options.SubscribeTimeout);
}
