using System.CommandLine;
using System.Globalization;
using System.Xml;
using System.Text.Json;
using Npgsql;
using Relay.Core.Journal;
using Relay.Core.Schema;

namespace Relay.Host.Cli;

/// <summary>
/// The operator's verbs on the database (CONTRACT §5): <c>publish</c>, <c>prune</c>, <c>status</c> and <c>audit</c>.
/// Each takes <c>--connection-string</c> (else the configured one, else the embedded database found by
/// <c>--data-dir</c> or in <c>.relay/</c> here or above) and prints JSON lines to standard output, times in ISO 8601 UTC;
/// a refused call prints the SQLSTATE and its message and exits with 1.
/// </summary>
internal static class OperatorCommands
{
    public static IEnumerable<Command> Create(Option<string?> connectionString, Option<string?> dataDirectory)
    {
        yield return Publish(connectionString, dataDirectory);
        yield return Prune(connectionString, dataDirectory);
        yield return Status(connectionString, dataDirectory);
        yield return Audit(connectionString, dataDirectory);
    }

    private static Command Publish(Option<string?> connectionString, Option<string?> dataDirectory)
    {
        var topic = new Option<string>("--topic") { Description = "The topic", Required = true };
        var key = new Option<string>("--key") { Description = "The doc_key", Required = true };
        var payload = CliOptions.Json("--payload", "The document, as JSON");
        var org = new Option<string?>("--org") { Description = "The owning organisation (oa_org_id)" };
        var version = CliOptions.WholeNumber<long?>("--version", "The doc_version (default: current + 1)", minimum: 1);
        var command = new Command("publish", "Publish one document through relay.publish and print its watermark") { connectionString, dataDirectory, topic, key, payload, org, version };
        command.SetAction((result, cancellationToken) => RunAsync(result, connectionString, dataDirectory, async (database, output) =>
        {
            await using var publish = database.DataSource.CreateCommand("SELECT watermark, doc_version FROM relay.publish($1, $2, $3::jsonb, $4, $5)");
            publish.Parameters.AddWithValue(result.GetRequiredValue(topic));
            publish.Parameters.AddWithValue(result.GetRequiredValue(key));
            publish.Parameters.AddWithValue(result.GetRequiredValue(payload));
            publish.Parameters.AddWithValue((object?)result.GetValue(org) ?? DBNull.Value);
            publish.Parameters.AddWithValue((object?)result.GetValue(version) ?? DBNull.Value);
            await PrintRowsAsync(publish, output, cancellationToken);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Prune(Option<string?> connectionString, Option<string?> dataDirectory)
    {
        var topic = new Option<string?>("--topic") { Description = "One topic (default: every topic)" };
        var olderThan = new Option<string?>("--older-than") { Description = "A PostgreSQL interval, e.g. '2 days' (default: each topic's retention)" };
        var command = new Command("prune", "Run retention through relay.prune until nothing is left to delete, and print what it deleted per topic")
        {
            connectionString, dataDirectory, topic, olderThan,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, connectionString, dataDirectory, async (database, output) =>
        {
            // relay.prune deletes at most relay.prune_max_per_call events of a topic per call, so it is called, each
            // call its own transaction, until a call deletes nothing (as sql/ops/retention.sql does): once was part of
            // the job on a large topic, and the full-resync runbook's step left clients above the cut resuming.
            var totals = new SortedDictionary<string, (long Deleted, long RetainedAfter)>(StringComparer.Ordinal);
            long deleted;
            do
            {
                deleted = 0;
                await using var prune = database.DataSource.CreateCommand("SELECT topic, deleted, retained_after FROM relay.prune($1, $2::interval)");
                prune.Parameters.AddWithValue((object?)result.GetValue(topic) ?? DBNull.Value);
                prune.Parameters.AddWithValue((object?)result.GetValue(olderThan) ?? DBNull.Value);
                await using var reader = await prune.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var (name, count) = (reader.GetString(0), reader.GetInt64(1));
                    totals[name] = (totals.GetValueOrDefault(name).Deleted + count, reader.GetInt64(2));
                    deleted += count;
                }
            }
            while (deleted > 0);
            foreach (var (name, (count, retainedAfter)) in totals)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object> { ["topic"] = name, ["deleted"] = count, ["retained_after"] = retainedAfter }));
            }
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Status(Option<string?> connectionString, Option<string?> dataDirectory)
    {
        var command = new Command("status", "Print every topic's head, retained window and journal size, and the replication slots (sql/ops/health.sql)") { connectionString, dataDirectory };
        command.SetAction((result, cancellationToken) => RunAsync(result, connectionString, dataDirectory, async (database, output) =>
        {
            await using var health = database.DataSource.CreateCommand(SqlScripts.Read("ops/health.sql"));
            await PrintRowsAsync(health, output, cancellationToken);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Audit(Option<string?> connectionString, Option<string?> dataDirectory)
    {
        var topic = new Option<string?>("--topic") { Description = "One topic (default: every topic)" };
        var compare = new Option<FileInfo?>("--compare")
        {
            Description = "Instead, compare the documents with another system's export: JSON lines of {doc_key, doc_version, payload}",
        };
        var command = new Command("audit", "Check that the journal is gap-free, hashes match payloads and the read model agrees with the journal") { connectionString, dataDirectory, topic, compare };
        command.SetAction((result, cancellationToken) => RunAsync(result, connectionString, dataDirectory, async (database, output) =>
        {
            if (result.GetValue(topic) is { } named && await new JournalReader(database.DataSource).ReadTopicAsync(named, cancellationToken) is null)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"relay: no topic {named}: relay status lists the topics");
                return 1;
            }
            if (result.GetValue(compare) is { } export)
            {
                return await CompareAsync(database, export, result.GetValue(topic), result.InvocationConfiguration, cancellationToken);
            }
            var problems = await JournalAudit.RunAsync(database.DataSource, result.GetValue(topic), cancellationToken);
            foreach (var problem in problems)
            {
                await output.WriteLineAsync(problem);
            }
            await output.WriteLineAsync(problems.Count == 0 ? "audit: no problems" : $"audit: {problems.Count} problems");
            return problems.Count == 0 ? 0 : 1;
        }, cancellationToken));
        return command;
    }

    private static async Task<int> CompareAsync(
        CliDatabase database, FileInfo export, string? topic, InvocationConfiguration console, CancellationToken cancellationToken)
    {
        if (!export.Exists)
        {
            await console.Error.WriteLineAsync($"relay: no file {export.FullName} to compare with");
            return 1;
        }
        using var reader = export.OpenText();
        var report = await ParityAudit.RunAsync(database.DataSource, reader, topic, console.Output.WriteLineAsync, cancellationToken);
        await console.Output.WriteLineAsync(report.ToString());
        return report.Agrees ? 0 : 1;
    }

    private static async Task<int> RunAsync(
        ParseResult result, Option<string?> connectionString, Option<string?> dataDirectory, Func<CliDatabase, TextWriter, Task<int>> action,
        CancellationToken cancellationToken)
    {
        // A refusal of the database (RL001, 22P02, …) is an expected failure: ExpectedFailure prints it as one line.
        await using var database = await CliDatabase.OpenAsync(result.GetValue(connectionString), result.GetValue(dataDirectory), cancellationToken);
        return await action(database, result.InvocationConfiguration.Output);
    }

    /// <summary>Every row of every result set as one JSON object per line.</summary>
    private static async Task PrintRowsAsync(NpgsqlCommand command, TextWriter output, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = new Dictionary<string, object?>();
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null
                        // An interval of months or years (a topic's retention of '1 month') is no TimeSpan.
                        : reader.GetDataTypeName(i) == "interval" ? Duration(reader.GetFieldValue<NpgsqlTypes.NpgsqlInterval>(i))
                        : reader.GetValue(i) switch
                    {
                        byte[] bytes => Convert.ToHexStringLower(bytes),
                        // ISO 8601: instants in UTC, intervals as durations.
                        DateTime instant => instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                        DateTimeOffset instant => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                        NpgsqlTypes.NpgsqlLogSequenceNumber lsn => lsn.ToString(),
                        var value => value,
                    };
                }
                await output.WriteLineAsync(JsonSerializer.Serialize(row));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
    }

    /// <summary>An interval as an ISO 8601 duration: <c>P7D</c>, <c>PT12H</c>, <c>P1M</c>, <c>P1Y2M3DT4H</c>.</summary>
    internal static string Duration(NpgsqlTypes.NpgsqlInterval interval)
    {
        var rest = XmlConvert.ToString(TimeSpan.FromDays(interval.Days) + TimeSpan.FromMicroseconds(interval.Time));
        if (interval.Months == 0)
        {
            return rest;
        }
        var (years, months) = Math.DivRem(interval.Months, 12);
        var calendar = $"{(years != 0 ? $"{years}Y" : "")}{(months != 0 ? $"{months}M" : "")}";
        return rest == "PT0S" ? $"P{calendar}" : $"P{calendar}{rest[1..]}";
    }
}
