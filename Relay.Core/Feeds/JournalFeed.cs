using Npgsql;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Relay.Core.Diagnostics;
using Relay.Core.Topics;

namespace Relay.Core.Feeds;

/// <summary>
/// A source of journal events for the topic logs that survives database blips: each session connects (retried with
/// exponential backoff and jitter), brings the logs level with the database, then follows the journal until it fails;
/// then the next session starts.
/// </summary>
public abstract partial class JournalFeed
{
    private readonly ResiliencePipeline _connect;

    /// <summary>Creates the feed.</summary>
    protected JournalFeed(string name, TopicLogs logs, FeedOptions options, RelayMetrics metrics, ILogger logger)
    {
        Name = name;
        Logs = logs;
        Options = options;
        Metrics = metrics;
        Logger = logger;
        _connect = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ReconnectDelay,
                MaxDelay = options.MaxReconnectDelay,
                OnRetry = args =>
                {
                    Status.SetProblem("connecting: " + args.Outcome.Exception?.Message);
                    Log.ConnectFailed(Logger, Name, args.AttemptNumber + 1, args.Outcome.Exception!.Message, args.RetryDelay, Unexpected(args.Outcome.Exception));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary><c>replication</c> or <c>notify</c>.</summary>
    public string Name { get; }

    /// <summary>Whether the feed is streaming.</summary>
    public FeedStatus Status { get; } = new();

    /// <summary>The logs this feed appends to.</summary>
    protected TopicLogs Logs { get; }

    /// <summary>The options.</summary>
    protected FeedOptions Options { get; }

    /// <summary>The instruments.</summary>
    protected RelayMetrics Metrics { get; }

    /// <summary>The logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>Follows the journal until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var session = await _connect.ExecuteAsync(ConnectAsync, cancellationToken);
                Status.SetStreaming();
                Log.Streaming(Logger, Name);
                await session.FollowAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Status.SetProblem("reconnecting: " + Reason(e));
                Metrics.Reconnects.Add(1);
                Log.Lost(Logger, Name, Reason(e), Unexpected(e));
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the session's connection is torn down under whatever it was reading, and Npgsql may say so
                // as an error of its own (an ObjectDisposedException in an NpgsqlException) rather than a cancellation.
                break;
            }
        }
        Status.SetProblem("stopped");
    }

    /// <summary>
    /// The exception to log with its stack trace: none for the database's own failures (down, refusing, a password or
    /// pg_hba.conf), which repeat on every attempt and whose message says all, so each attempt is one line.
    /// </summary>
    private static Exception? Unexpected(Exception e) =>
        e is NpgsqlException or IOException or TimeoutException || IsNpgsqlTornDown(e) ? null : e;

    /// <summary>
    /// What the log and <c>/readyz</c> say of a lost session. When the connection breaks under a status update (a relay
    /// paused for longer than <c>wal_sender_timeout</c>, whose walsender was ended meanwhile), Npgsql logs the broken
    /// pipe itself and its reader then fails with a <see cref="NullReferenceException"/> of its own (npgsql/npgsql#6630):
    /// that message says nothing, and its stack trace looked like a crash of the relay.
    /// </summary>
    private static string Reason(Exception e) => IsNpgsqlTornDown(e)
        ? $"the connection broke, and Npgsql's reader failed with {e.GetType().Name} (Npgsql's line before this one says why, " +
          "such as a broken pipe after PostgreSQL ended a walsender the relay had not answered within wal_sender_timeout)"
        : e.Message;

    private static bool IsNpgsqlTornDown(Exception e) =>
        e is NullReferenceException or ObjectDisposedException
        && e.TargetSite?.DeclaringType?.Namespace?.StartsWith("Npgsql", StringComparison.Ordinal) == true;

    /// <summary>Connects and brings every topic log level with the database; the result follows the journal from there.</summary>
    protected abstract ValueTask<FeedSession> ConnectAsync(CancellationToken cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(RelayEventIds.Feed + 1, LogLevel.Information, "The {Feed} feed is streaming")]
        public static partial void Streaming(ILogger logger, string feed);

        [LoggerMessage(RelayEventIds.Feed + 2, LogLevel.Warning, "The {Feed} feed lost its connection: {Reason}; reconnecting")]
        public static partial void Lost(ILogger logger, string feed, string reason, Exception? exception);

        [LoggerMessage(RelayEventIds.Feed + 3, LogLevel.Warning, "The {Feed} feed could not connect (attempt {Attempt}): {Reason}; retrying in {Delay}")]
        public static partial void ConnectFailed(ILogger logger, string feed, int attempt, string reason, TimeSpan delay, Exception? exception);
    }
}
