using System.CommandLine;
using System.CommandLine.Parsing;
using Relay.Core.Auth;
using Relay.Host.Configuration;
using Relay.Host.Development;

namespace Relay.Host.Cli;

/// <summary>
/// <c>relay token</c>: mints a development JWT with the configured HS256 key (<c>Relay:Auth:Keys</c>), or with the
/// development key of the embedded database <c>relay up</c> runs (found as the other verbs find it) when none is
/// configured, and prints it on standard output.
/// </summary>
public static class TokenCommand
{
    /// <summary>The lifetime of a token when <c>--ttl</c> is not given: 1 hour.</summary>
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromHours(1);

    /// <summary>The longest <c>--ttl</c>: 365 days.</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(365);

    /// <summary>The <c>token</c> verb: <c>relay token --sub S --org O --scopes A,B [--ttl 1h] [--kid K]</c>.</summary>
    public static Command Create() => Create(() => RelayBootstrap.Configuration());

    internal static Command Create(Func<IConfiguration> configuration)
    {
        var sub = new Option<string>("--sub") { Description = "The sub claim: whom the token is for", Required = true };
        var org = new Option<string>("--org") { Description = "The oa_org_id claim: whose documents the client receives", Required = true };
        var scopes = new Option<string[]>("--scopes")
        {
            Description = "The oa_sync_scopes: topic names or prefix.* (runtime.*), separated by commas or spaces",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var ttl = new Option<TimeSpan>("--ttl")
        {
            Description = $"Lifetime: 90s, 30m, 12h, 7d or hh:mm:ss; default 1h, at most {MaxTimeToLive.TotalDays:0}d",
            DefaultValueFactory = _ => DefaultTimeToLive,
            CustomParser = ParseTimeToLive,
        };
        var kid = new Option<string?>("--kid") { Description = "The key to sign with, when Relay:Auth:Keys holds several" };
        // Where relay up keeps its development key, when it was started with --data-dir.
        var dataDirectory = CliOptions.DataDirectory();

        sub.Validators.Add(result => RequireText(result, "--sub", "whom the token is for, e.g. --sub user-1"));
        org.Validators.Add(result => RequireText(result, "--org", "the organisation whose documents it reads, e.g. --org org-1"));
        scopes.Validators.Add(result =>
        {
            var entries = SplitScopes(result.GetValueOrDefault<string[]>() ?? []);
            if (entries.Length == 0)
            {
                result.AddError("--scopes names no topic: give topic names or prefix.*, e.g. --scopes runtime.*");
            }
            else if (!Relay.Protocol.TopicScopes.TryCreate(entries, out _, out var error))
            {
                result.AddError($"--scopes: {error.TrimEnd('.')}");
            }
        });
        var command = new Command("token", "Mint a development JWT and print it") { sub, org, scopes, ttl, kid, dataDirectory };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            try
            {
                var settings = configuration();
                var auth = settings.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
                var relay = RelayOptionsRegistration.Get<RelayOptions>(settings);
                var key = SigningKey(auth, EmbeddedDirectory.Find(result.GetValue(dataDirectory), relay), result.GetValue(kid));
                var request = new DevTokenRequest(
                    result.GetRequiredValue(sub), result.GetRequiredValue(org), SplitScopes(result.GetRequiredValue(scopes)), result.GetValue(ttl))
                {
                    Issuer = auth.Issuer,
                    Audience = auth.Audience,
                };
                output.WriteLine(DevTokens.Mint(key, request));
                // Only relay up trusts its development key: a relay verifying an identity provider's keys refuses it.
                var refused = !string.IsNullOrEmpty(auth.JwksFile) && auth.DecodeKeys().All(configured => configured.KeyId != key.KeyId)
                    ? $"; that is relay up's development key, which a relay checking {AuthOptions.Section}:JwksFile refuses (unknown_key): mint its tokens with your identity provider"
                    : "";
                error.WriteLine($"signed with kid {key.KeyId}; expires in {request.TimeToLive}{refused}");
                return 0;
            }
            catch (Exception e) when (e is AuthConfigurationException or ArgumentException)
            {
                error.WriteLine($"relay: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// The key <c>relay token</c> signs with: the one named by <paramref name="kid"/>, else the only key of
    /// <c>Relay:Auth:Keys</c>, else (none configured) the development key <c>relay up</c> keeps under
    /// <paramref name="dataDirectory"/>. It never makes a key: one that no relay trusts would sign tokens every relay
    /// refuses.
    /// </summary>
    /// <param name="auth">The configured keys.</param>
    /// <param name="dataDirectory">The embedded database's folder (<see cref="EmbeddedDirectory.Find"/>); null when there is none.</param>
    /// <param name="kid">The key to sign with, when several are configured.</param>
    /// <exception cref="AuthConfigurationException">No key fits: the message says which kids there are, or where to get one.</exception>
    public static HmacKey SigningKey(AuthOptions auth, string? dataDirectory, string? kid)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var configured = auth.DecodeKeys();
        var dev = dataDirectory is not null && File.Exists(DevTokens.DevKeyPath(dataDirectory)) ? DevTokens.EnsureDevKey(dataDirectory) : null;
        if (kid is not null)
        {
            return configured.FirstOrDefault(key => key.KeyId == kid) ?? (dev?.KeyId == kid ? dev : null)
                ?? throw new AuthConfigurationException($"no HS256 key has kid '{kid}' (configured: {KeyIds(configured)})");
        }
        return configured.Count switch
        {
            0 => dev ?? throw new AuthConfigurationException(
                $"{AuthOptions.Section}:Keys configures no key, and there is no relay up development key in " +
                $"{dataDirectory ?? Path.GetFullPath(EmbeddedDirectory.DefaultName) + " or any folder above"}: run it where relay up ran " +
                $"(or after it), pass the --data-dir relay up was given, or configure the relay's key as {AuthOptions.Section}:Keys:<kid>"),
            1 => configured[0],
            _ => throw new AuthConfigurationException($"{AuthOptions.Section}:Keys holds several keys ({KeyIds(configured)}): choose one with --kid"),
        };
    }

    private static string KeyIds(IReadOnlyList<HmacKey> keys) => keys.Count == 0 ? "none" : string.Join(", ", keys.Select(key => key.KeyId));

    private static void RequireText(OptionResult result, string name, string what)
    {
        if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
        {
            result.AddError($"{name} must not be empty: give {what}");
        }
    }

    private static string[] SplitScopes(string[] values) =>
        [.. values.SelectMany(value => value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))];

    private static TimeSpan ParseTimeToLive(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Durations.TryParse(text, out var ttl) && ttl > TimeSpan.Zero && ttl <= MaxTimeToLive)
        {
            return ttl;
        }
        result.AddError($"--ttl: '{text}' is not a duration between 1s and {MaxTimeToLive.TotalDays:0}d (90s, 30m, 12h, 7d, 01:30:00)");
        return default;
    }
}
