using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Relay.Core.Auth;
using Relay.Host.Cli;
using Relay.Host.Development;

namespace Relay.Tests.Auth;

/// <summary><c>relay token</c> mints with the configured key, or with the development key when none is configured.</summary>
[TestFixture]
public sealed class TokenCommandTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("relay-token-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    private (int Exit, string Output, string Error) Run(IEnumerable<HmacKey> keys, params string[] args) => RunWithJwks(keys, jwksFile: null, args);

    private (int Exit, string Output, string Error) RunWithJwks(IEnumerable<HmacKey> keys, string? jwksFile, params string[] args)
    {
        var settings = new Dictionary<string, string?> { ["Relay:DataDirectory"] = _directory, ["Relay:Auth:Issuer"] = "relay-test", ["Relay:Auth:JwksFile"] = jwksFile };
        foreach (var key in keys)
        {
            settings[$"Relay:Auth:Keys:{key.KeyId}"] = key.SecretBase64;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = TokenCommand.Create(() => configuration).Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });

        return (exit, output.ToString().Trim(), error.ToString());
    }

    private static async Task<AuthResult> ValidateAsync(string token, params HmacKey[] keys)
    {
        var options = TokenForge.Options(keys);
        options.Issuer = "relay-test";
        return await new TokenValidator(options).ValidateAsync(token);
    }

    [Test]
    public async Task Token_configuredKey_printsATokenItVerifies()
    {
        var key = TokenForge.NewKey("2026-06");

        var (exit, output, error) = Run([key], "--sub", "user_1", "--org", "org_1", "--scopes", "runtime.*,audit.events", "--ttl", "15m");

        Assert.That(exit, Is.EqualTo(0), error);
        var principal = (await ValidateAsync(output, key)).Principal!;
        Assert.That(principal.Subject, Is.EqualTo("user_1"));
        Assert.That(principal.OrgId, Is.EqualTo("org_1"));
        Assert.That(principal.Scopes.Entries, Is.EqualTo(new[] { "runtime.*", "audit.events" }));
        Assert.That(principal.ExpiresAt - DateTimeOffset.UtcNow, Is.LessThanOrEqualTo(TimeSpan.FromMinutes(15)).And.GreaterThan(TimeSpan.FromMinutes(14)));
    }

    [Test]
    public async Task Token_noConfiguredKey_signsWithTheDevKeyOfRelayUp()
    {
        var devKey = DevTokens.EnsureDevKey(_directory);

        var (exit, output, error) = Run([], "--sub", "u", "--org", "o", "--scopes", "runtime.*");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That((await ValidateAsync(output, devKey)).Succeeded, Is.True);
    }

    [Test]
    public async Task Token_dataDirOfRelayUp_signsWithTheDevKeyKeptThere()
    {
        // Before, --data-dir was refused, and only the undocumented Relay__DataDirectory found relay up --data-dir's key.
        var elsewhere = Directory.CreateTempSubdirectory("relay-token-up-").FullName;
        try
        {
            var devKey = DevTokens.EnsureDevKey(elsewhere);

            var (exit, output, error) = Run([], "--sub", "u", "--org", "o", "--scopes", "runtime.*", "--data-dir", elsewhere);

            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That((await ValidateAsync(output, devKey)).Succeeded, Is.True);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Test]
    public void Token_withOnlyAJwksFileConfigured_saysTheRelayRefusesTheDevKey()
    {
        DevTokens.EnsureDevKey(_directory);

        var (exit, _, error) = RunWithJwks([], Path.Combine(_directory, "jwks.json"), "--sub", "u", "--org", "o", "--scopes", "runtime.*");

        // Before, it said only which kid signed, and the relay then refused every such token with unknown_key.
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Contain("that is relay up's development key, which a relay checking Relay:Auth:JwksFile refuses (unknown_key)"));
    }

    [Test]
    public void Token_noConfiguredKeyAndNoRelayUp_failsSayingWhereToRunIt_andMakesNoKey()
    {
        // A key made here would sign tokens that every relay refuses with bad_signature.
        var (exit, output, error) = Run([], "--sub", "u", "--org", "o", "--scopes", "runtime.*");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Is.Empty);
        Assert.That(error, Does.Contain("no relay up development key").And.Contain("Relay:Auth:Keys:<kid>"));
        Assert.That(File.Exists(DevTokens.DevKeyPath(_directory)), Is.False);
    }

    [Test]
    public async Task Token_severalKeysAndKid_signsWithThatKey()
    {
        var old = TokenForge.NewKey("2026-05");
        var current = TokenForge.NewKey("2026-06");

        var (exit, output, error) = Run([old, current], "--sub", "u", "--org", "o", "--scopes", "a.b", "--kid", "2026-05");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That((await ValidateAsync(output, old, current)).Principal?.KeyId, Is.EqualTo("2026-05"));
    }

    [Test]
    public void Token_severalKeysWithoutKid_failsAskingForOne()
    {
        var (exit, _, error) = Run([TokenForge.NewKey("a"), TokenForge.NewKey("b")], "--sub", "u", "--org", "o", "--scopes", "a.b");

        Assert.That(exit, Is.EqualTo(1));
        // The same one-line form as every verb's expected failure (it said "relay token: …").
        Assert.That(error.Trim(), Is.EqualTo("relay: Relay:Auth:Keys holds several keys (a, b): choose one with --kid"));
    }

    [TestCase("--scopes", "Bad")]
    [TestCase("--scopes", "")]
    [TestCase("--sub", " ")]
    [TestCase("--org", "")]
    [TestCase("--ttl", "0s")]
    [TestCase("--ttl", "90")]
    [TestCase("--ttl", "400d")]
    public void Token_invalidArgument_fails(string option, string value)
    {
        string[] args = ["--sub", "u", "--org", "o", "--scopes", "a.b"];
        var index = Array.IndexOf(args, option);
        args = index >= 0 ? [.. args[..(index + 1)], value, .. args[(index + 2)..]] : [.. args, option, value];

        Assert.That(Run([TokenForge.NewKey("k")], args).Exit, Is.Not.EqualTo(0));
    }

    [TestCase("--sub", "", "--sub must not be empty", "whom the token is for")]
    [TestCase("--scopes", "bad topic!", "--scopes: 'topic!' is neither a topic name nor 'prefix.*'", "relay token --help")]
    [TestCase("--scopes", ",", "--scopes names no topic", "prefix.*")]
    public async Task Token_invalidArgument_isOneLineNamingTheOption(string option, string value, string what, string hint)
    {
        string[] args = ["token", "--sub", "u", "--org", "o", "--scopes", "a.b"];
        var index = Array.IndexOf(args, option);
        args = [.. args[..(index + 1)], value, .. args[(index + 2)..]];

        var run = await Cli.RelayProcess.RunAsync(args, new Dictionary<string, string> { ["Relay__Auth__Keys__k1"] = Cli.RelayProcess.Key });

        Cli.StartupErrorTests.AssertOneLine(run, what, hint);
        Assert.That(run.Error, Does.Not.Contain("(Parameter"));
    }

    [Test]
    public async Task PrepareEmbedded_addsTheDevKeyAndMintsATokenForTheExampleOrg()
    {
        var options = new AuthOptions { Issuer = "relay-test" };

        var token = DevTokens.PrepareEmbedded(options, _directory);
        var result = await new TokenValidator(options).ValidateAsync(token);

        Assert.That(result.Principal?.OrgId, Is.EqualTo(DevTokens.DevOrgId));
        Assert.That(result.Principal?.Scopes.Allows("runtime.run_summaries"), Is.True);
        Assert.That(DevTokens.PrepareEmbedded(new AuthOptions(), _directory), Does.StartWith(token.Split('.')[0]), "the same key is reused");
    }
}
