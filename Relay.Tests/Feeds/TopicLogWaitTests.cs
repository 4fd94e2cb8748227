using Relay.Core.Journal;
using Relay.Core.Topics;

namespace Relay.Tests.Feeds;

/// <summary>
/// How a reader at a topic log's head waits: woken by every kind of change, ended by its token, never left waiting
/// when a change or a cancellation races the start of its wait, and not held by the log once its wait is over.
/// </summary>
public sealed class TopicLogWaitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static TopicLog NewLog(long head = 0) => new("waits", head, "epoch-1", new TopicLogOptions());

    private static JournalEvent Event(long watermark) =>
        new("waits", watermark, $"doc-{watermark}", 1, null, [1], null, false, DateTimeOffset.UnixEpoch);

    [Test]
    public async Task Wait_atHead_endsOnTheNextAppendAndTheLogForgetsTheReader()
    {
        var log = NewLog();
        using var waiter = new TopicWaiter(log, CancellationToken.None);

        var wait = log.WaitPastAsync(0, "epoch-1", waiter).AsTask();
        Assert.That(wait.IsCompleted, Is.False, "nothing was appended yet");
        Assert.That(log.Waiting, Is.EqualTo(1));

        log.Append([Event(1)]);

        await wait.WaitAsync(Patience);
        Assert.That(log.Waiting, Is.Zero);
    }

    [Test]
    public void Wait_behindHead_endsAtOnceWithoutWaiting()
    {
        var log = NewLog(head: 5);
        using var waiter = new TopicWaiter(log, CancellationToken.None);

        Assert.That(log.WaitPastAsync(4, "epoch-1", waiter).IsCompletedSuccessfully, Is.True);
        Assert.That(log.Waiting, Is.Zero);
    }

    [Test]
    public async Task Wait_endsWhenTheLogSkipsAheadOrStartsANewEpoch()
    {
        var log = NewLog(head: 3);
        using var waiter = new TopicWaiter(log, CancellationToken.None);

        var skipped = log.WaitPastAsync(3, "epoch-1", waiter).AsTask();
        log.SkipTo(10);
        await skipped.WaitAsync(Patience);

        var restored = log.WaitPastAsync(10, "epoch-1", waiter).AsTask();
        Assert.That(log.Adopt("epoch-1", 10), Is.False, "the same epoch changes nothing");
        Assert.That(restored.IsCompleted, Is.False);
        Assert.That(log.Adopt("epoch-2", 2), Is.True);
        await restored.WaitAsync(Patience);
        Assert.That(log.Waiting, Is.Zero);
    }

    [Test]
    public async Task Wait_cancelled_endsWithCancellationAndTheLogForgetsTheReader()
    {
        var log = NewLog();
        using var stop = new CancellationTokenSource();
        using var waiter = new TopicWaiter(log, stop.Token);

        var wait = log.WaitPastAsync(0, "epoch-1", waiter).AsTask();
        await stop.CancelAsync();

        Assert.That(async () => await wait.WaitAsync(Patience), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(log.Waiting, Is.Zero, "an idle topic must not hold the readers that left it");
        log.Append([Event(1)]);
    }

    [Test]
    public void Wait_tokenCancelledBeforeItStarts_endsAtOnce()
    {
        var log = NewLog();
        using var stop = new CancellationTokenSource();
        using var waiter = new TopicWaiter(log, stop.Token);
        stop.Cancel();

        var wait = log.WaitPastAsync(0, "epoch-1", waiter);

        Assert.That(wait.IsCanceled, Is.True, "the token's callback already ran and will not come again");
        Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(log.Waiting, Is.Zero);
    }

    [Test]
    public async Task Waits_racingAppendsAndCancellations_neverMissAWakeUpOrHoldAReader()
    {
        const int Events = 20_000;
        const int Readers = 8;
        var log = NewLog();
        using var stopped = new CancellationTokenSource();
        var cancellations = Enumerable.Range(0, Readers).Select(_ => new CancellationTokenSource()).ToArray();

        // Half the readers follow the log to its end; the others are cancelled while the appends run (a lost wake-up
        // or cancellation would leave one waiting past the patience).
        var readers = Enumerable.Range(0, Readers).Select(i => Task.Run(async () =>
        {
            using var waiter = new TopicWaiter(log, cancellations[i].Token);
            var cursor = 0L;
            var wakeUps = 0;
            while (cursor < Events)
            {
                cancellations[i].Token.ThrowIfCancellationRequested();
                await log.WaitPastAsync(cursor, "epoch-1", waiter);
                cursor = log.Head;
                wakeUps++;
            }
            return wakeUps;
        })).ToArray();
        var appender = Task.Run(async () =>
        {
            for (var watermark = 1L; watermark <= Events; watermark++)
            {
                log.Append([Event(watermark)]);
                if (watermark % (Events / Readers) == 0)
                {
                    await cancellations[(int)(watermark / (Events / Readers)) % Readers | 1].CancelAsync();
                }
                if (watermark % 64 == 0)
                {
                    await Task.Yield();
                }
            }
        });

        await appender.WaitAsync(Patience);
        for (var i = 0; i < Readers; i += 2)
        {
            Assert.That(await readers[i].WaitAsync(Patience), Is.InRange(1, Events), $"reader {i} reached the head");
        }
        for (var i = 1; i < Readers; i += 2)
        {
            // Cancelled while waiting, between two waits, or after its last wake-up: it ends either way, never hangs
            // (WaitAsync throws TimeoutException).
            try
            {
                await readers[i].WaitAsync(Patience);
            }
            catch (OperationCanceledException)
            {
            }
        }
        Assert.That(log.Waiting, Is.Zero);
        foreach (var cancellation in cancellations)
        {
            cancellation.Dispose();
        }
    }
}
