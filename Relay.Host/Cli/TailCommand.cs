using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAgents.Sync.V1;
using Relay.Client;
using Relay.Core.Auth;
using Relay.Host.Configuration;
using Relay.Host.Development;

namespace Relay.Host.Cli;

/// <summary>
/// <c>relay tail --topic T [--from W] [--url URL] [--token TOKEN]</c>: follows topics with <see cref="RelayClient"/>
/// and prints every change as one JSON line, <c>{"topic","docKey","docVersion","watermark","tombstone","payload"}</c>,
/// until Ctrl-C. A stale cursor re-hydrates the topic: its documents are printed with the list's watermark. Without a
/// token, the development key of the embedded database (<c>relay up</c>'s) signs one. A refusal no retry can mend (an
/// unknown or forbidden topic, a refused token or request) ends it with one line and exit code 1.
/// </summary>
public static class TailCommand
{
    /// <summary>The relay <c>--url</c> defaults to: <c>http://127.0.0.1:8080</c>.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>The environment variable read for the token when <c>--token</c> is not given: <c>RELAY_TOKEN</c>.</summary>
    public const string TokenVariable = "RELAY_TOKEN";

    /// <summary>The <c>tail</c> verb.</summary>
    /// <param name="dataDirectory">The <c>--data-dir</c> option, where the development key is looked for.</param>
    public static Command Create(Option<string?> dataDirectory)
    {
        var topics = new Option<string[]>("--topic") { Description = "A topic to follow; repeat for several", Required = true };
        topics.Validators.Add(result =>
        {
            if ((result.GetValueOrDefault<string[]>() ?? []).FirstOrDefault(topic => !Relay.Protocol.TopicName.IsValid(topic)) is { } invalid)
            {
                result.AddError(
                    $"--topic '{invalid}' is not a topic name ({Relay.Protocol.TopicName.Rule}), e.g. --topic runtime.run_summaries");
            }
        });
        var from = CliOptions.WholeNumber<long>("--from", "Print changes after this watermark (default 0: all retained)", minimum: 0);
        var url = CliOptions.RelayUrl();
        var token = new Option<string?>("--token") { Description = $"The bearer token (default: ${TokenVariable})" };

        var command = new Command("tail", "Follow topics from a watermark and print each change as a JSON line") { topics, from, url, token, dataDirectory };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var bearer = result.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable) ?? DevToken(result.GetValue(dataDirectory));
            if (string.IsNullOrEmpty(bearer))
            {
                await error.WriteLineAsync($"relay: no token: pass --token or set {TokenVariable} (under relay up, its development key signs one)");
                return 1;
            }
            var followed = result.GetRequiredValue(topics).Distinct(StringComparer.Ordinal).ToArray();
            var start = result.GetValue(from);
            await using var client = new RelayClient(new RelayClientOptions
            {
                Url = result.GetRequiredValue(url),
                TokenProvider = _ => ValueTask.FromResult(bearer),
                WatermarkStore = new InMemoryWatermarkStore(followed.ToDictionary(topic => topic, _ => start)),
            });
            client.DocumentChanged += change => output.WriteLine(Line(change));
            // A refusal no retry can mend ends the verb with its one line; anything else is reported and retried.
            var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            client.ConnectionFailed += e =>
            {
                if (e is UpgradeRefusedException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden })
                {
                    refused.TrySetResult($"{e.Message}: {TokenHint}");
                    return;
                }
                error.WriteLine($"relay tail: {e.Message}; reconnecting");
            };
            client.ErrorReceived += e =>
            {
                if (Refusal(e) is { } line)
                {
                    refused.TrySetResult(line);
                    return;
                }
                error.WriteLine($"relay tail: {e.Code}: {e.Message}");
            };
            await client.SubscribeAsync(followed, cancellationToken);
            client.Start();
            try
            {
                await error.WriteLineAsync("relay: " + await refused.Task.WaitAsync(cancellationToken));
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C: the normal way out.
                return 0;
            }
        });
        return command;
    }

    private const string TokenHint = $"pass a valid --token or set {TokenVariable}";

    /// <summary>The line for an error that ends <c>tail</c>, or null for one the client recovers from.</summary>
    private static string? Refusal(Error error) => error.Code switch
    {
        ErrorCode.UnknownTopic => $"{error.Message}: relay status lists the topics",
        ErrorCode.ForbiddenTopic => $"{error.Message}: use a token whose scopes cover it (relay token --scopes)",
        ErrorCode.Unauthorized => $"{error.Message}: {TokenHint}",
        ErrorCode.BadRequest => $"{error.Message}: relay tail --help lists the options",
        _ => null,
    };

    /// <summary>A development token signed with the embedded database's key, if <c>relay up</c> made one.</summary>
    private static string? DevToken(string? dataDirectory)
    {
        var configuration = RelayBootstrap.Configuration();
        if (EmbeddedDirectory.Find(dataDirectory, RelayCommandLine.Options()) is not { } directory || !File.Exists(DevTokens.DevKeyPath(directory)))
        {
            return null;
        }
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        return DevTokens.PrepareEmbedded(auth, directory);
    }

    /// <summary>One output line for <paramref name="change"/>; the payload is the document's JSON as the relay sent it.</summary>
    internal static string Line(DocumentChange change)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("topic", change.Topic);
            json.WriteString("docKey", change.Document.DocKey);
            json.WriteNumber("docVersion", change.Document.DocVersion);
            json.WriteNumber("watermark", change.Watermark);
            json.WriteBoolean("tombstone", change.Document.Deleted);
            json.WritePropertyName("payload");
            if (change.Document.Deleted)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteRawValue(change.Document.Payload.Span, skipInputValidation: true);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
