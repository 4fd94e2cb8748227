using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Npgsql;
using Relay.Core.Auth;
using Relay.Core.Journal;
using Relay.Core.Provisioning;
using Relay.Host.Hosting;

namespace Relay.Host.Cli;

/// <summary>
/// The failures an operator is expected to meet (a port in use, a bad setting, a database that is down), each told as
/// one line that says what to do, instead of an unhandled exception's stack trace.
/// </summary>
internal static partial class ExpectedFailure
{
    /// <summary>The exit code of an expected failure.</summary>
    public const int ExitCode = 1;

    /// <summary>The exit code after Ctrl-C or SIGTERM stopped a verb before it finished: 130, as shells report SIGINT.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>The one line for <paramref name="exception"/>, or null when it is not an expected failure.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        IOException { InnerException: AddressInUseException } e =>
            $"{e.Message.TrimEnd('.')}: another process listens there; choose another address with --urls http://127.0.0.1:<port>",
        AddressInUseException e => $"{e.Message.TrimEnd('.')}: choose another address with --urls http://127.0.0.1:<port>",
        ProvisioningException or AuthConfigurationException or ParityAuditException or InvalidListenAddressException => exception.Message,
        OptionsValidationException e => $"invalid configuration: {string.Join("; ", e.Failures)}",
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName or PostgresErrorCodes.UndefinedFunction } e
            when e.MessageText.Contains("relay", StringComparison.Ordinal) =>
            $"{e.SqlState}: {e.MessageText}: the relay schema is missing from this database or older than this relay: run relay migrate",
        PostgresException { SqlState: "RL001" } e => $"{e.SqlState}: {e.MessageText}: relay status lists the topics; relay.create_topic creates one (docs/sql.md)",
        PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } e =>
            $"{e.SqlState}: {e.MessageText}: the role lacks a right this needs (docs/deployment.md, \"Rights\"); a relay whose role may not " +
            "migrate runs with Relay__AutoMigrate=false, after relay migrate as the schema's owner",
        PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } e =>
            $"{e.SqlState}: {e.MessageText}: this is a read-only standby; point the relay at the primary",
        PostgresException { SqlState: PostgresErrorCodes.InvalidDatetimeFormat } e when e.MessageText.Contains("interval", StringComparison.Ordinal) =>
            $"{e.SqlState}: {e.MessageText}: give a PostgreSQL interval, e.g. '7 days' or '12 hours'",
        PostgresException e => $"{e.SqlState}: {e.MessageText}{(e.Hint is { Length: > 0 } hint ? ": " + hint : "")}",
        FormatException e when e.TargetSite?.DeclaringType == typeof(BindingAddress) =>
            $"{e.Message.TrimEnd('.')}: give --urls as http://HOST:PORT (several separated by ;), e.g. http://127.0.0.1:8080",
        NpgsqlException e when e.Message.StartsWith("SSL connection requested", StringComparison.Ordinal) =>
            $"database error: {e.Message.TrimEnd('.')}: the server offers no TLS; enable it there, or lower SSL Mode (sslmode) in the connection string",
        NpgsqlException { InnerException: System.Security.Authentication.AuthenticationException cause } e =>
            $"database error: {e.Message.TrimEnd('.')}: {cause.Message.TrimEnd('.')}: give the certificate authority that signed the server's " +
            "certificate as Root Certificate=<ca.pem> in the connection string (sslrootcert in a URL), or lower SSL Mode (sslmode)",
        NpgsqlException e => $"database error: {e.Message}",
        InvalidOperationException e when e.TargetSite?.DeclaringType == typeof(ConfigurationBinder) =>
            $"invalid configuration: {e.Message.TrimEnd('.')}: {ValueForm(e.Message)}",
        InvalidOperationException e when LogLevelValue().IsMatch(e.Message) =>
            $"invalid configuration: {e.Message.TrimEnd('.')}: a Logging:LogLevel setting takes Trace, Debug, Information, Warning, Error, Critical or None",
        InvalidDataException { InnerException: { } cause } e when e.Message.StartsWith("Failed to load configuration from file", StringComparison.Ordinal) =>
            $"invalid configuration: {e.Message.TrimEnd('.')}: {cause.GetBaseException().Message}",
        _ => null,
    };

    /// <summary>What a value of the type named in the binder's message looks like.</summary>
    private static string ValueForm(string message) => ConvertedType().Match(message).Groups[1].Value switch
    {
        "System.TimeSpan" => "give a duration as hh:mm:ss, e.g. 00:00:15",
        "System.Boolean" => "give true or false",
        "System.Int32" or "System.Int64" => "give a whole number",
        _ => "see the setting in docs/deployment.md",
    };

    [GeneratedRegex("to type '([^']+)'")]
    private static partial Regex ConvertedType();

    /// <summary>What Microsoft.Extensions.Logging says of a <c>Logging:LogLevel</c> value that is no level.</summary>
    [GeneratedRegex("^Configuration value '[^']*' is not supported\\.$")]
    private static partial Regex LogLevelValue();

    /// <summary>Runs the command line; an expected failure is printed to standard error as <c>relay: …</c> and exits with 1.</summary>
    public static async Task<int> InvokeAsync(System.CommandLine.ParseResult parse, System.CommandLine.InvocationConfiguration configuration)
    {
        configuration.EnableDefaultExceptionHandler = false;
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would print the errors and then the whole help: one line says what and where to look.
            var help = parse.CommandResult.Command is System.CommandLine.RootCommand ? "relay --help" : $"relay {parse.CommandResult.Command.Name} --help";
            await configuration.Error.WriteLineAsync(
                $"relay: {string.Join("; ", parse.Errors.Select(error => error.Message.TrimEnd('.')))}: {help} lists the options");
            return ExitCode;
        }
        try
        {
            return await parse.InvokeAsync(configuration);
        }
        catch (OperationCanceledException e) when (e.CancellationToken.IsCancellationRequested)
        {
            return InterruptedExitCode;
        }
        catch (Exception e) when (Describe(e) is { } line)
        {
            await configuration.Error.WriteLineAsync("relay: " + line.ReplaceLineEndings("; "));
            return ExitCode;
        }
    }
}
