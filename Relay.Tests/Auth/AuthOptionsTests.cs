using Microsoft.Extensions.Configuration;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary><c>Relay:Auth</c> is bound from configuration and refused at start, with a message per problem.</summary>
[TestFixture]
public sealed class AuthOptionsTests
{
    private static readonly string s_secret = Convert.ToBase64String(new byte[32]);

    [Test]
    public void Bind_configurationSection_readsEverySetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:Auth:Keys:2026-06"] = s_secret,
            ["Relay:Auth:Keys:2026-05"] = s_secret,
            ["Relay:Auth:JwksFile"] = "/etc/relay/jwks.json",
            ["Relay:Auth:Issuer"] = "https://auth.example",
            ["Relay:Auth:Audience"] = "khala-relay",
            ["Relay:Auth:ClockSkew"] = "00:00:10",
            ["Relay:Auth:ClaimsVersions:0"] = "2",
        }).Build();

        var options = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>()!;

        Assert.That(options.Keys.Keys, Is.EquivalentTo(new[] { "2026-06", "2026-05" }));
        Assert.That(options.JwksFile, Is.EqualTo("/etc/relay/jwks.json"));
        Assert.That(options.Issuer, Is.EqualTo("https://auth.example"));
        Assert.That(options.Audience, Is.EqualTo("khala-relay"));
        Assert.That(options.ClockSkew, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.AcceptedClaimsVersions, Is.EqualTo(new[] { 2 }), "a configured list replaces the default");
    }

    [Test]
    public void Defaults_areThirtySecondsOfSkewAndClaimsVersionOne()
    {
        var options = new AuthOptions();

        Assert.That(options.ClockSkew, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(options.AcceptedClaimsVersions, Is.EqualTo(new[] { 1 }));
        Assert.That(options.Issuer, Is.Null);
        Assert.That(options.Audience, Is.Null);
    }

    [Test]
    public void Validate_secretShorterThan256Bits_isRefusedNamingTheKid()
    {
        var options = new AuthOptions();
        options.Keys["short"] = Convert.ToBase64String(new byte[31]);

        Assert.That(options.Validate(), Has.One.Contains("Relay:Auth:Keys:short").And.Contains("248 bits"));
        Assert.That(() => new TokenValidator(options), Throws.TypeOf<AuthConfigurationException>());
    }

    [Test]
    public void Validate_secretNotBase64_isRefused()
    {
        var options = new AuthOptions();
        options.Keys["k"] = "not base64!";

        Assert.That(options.Validate(), Has.One.Contains("base64"));
    }

    [Test]
    public void Validate_noKey_isRefused() =>
        Assert.That(new AuthOptions().Validate(), Has.One.Contains("configures no key"));

    [Test]
    public void Validate_jwksFileThatIsADirectory_saysSo()
    {
        var directory = Directory.CreateTempSubdirectory("relay-jwks-dir-").FullName;
        try
        {
            var errors = new AuthOptions { JwksFile = directory }.Validate();

            // Before: "... does not exist", of a path the operator can see.
            Assert.That(errors, Is.EqualTo(new[] { $"Relay:Auth:JwksFile: {directory} is a directory; name the JWKS file in it" }));
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Test]
    public void Validate_everyProblem_isListed()
    {
        var options = new AuthOptions { JwksFile = "/nonexistent/jwks.json", ClockSkew = TimeSpan.FromHours(1), Issuer = "" };
        options.ClaimsVersions.Add(0);

        var errors = options.Validate();

        Assert.That(errors, Has.Count.EqualTo(4));
        Assert.That(errors, Has.One.Contains("does not exist"));
        Assert.That(errors, Has.One.Contains("ClockSkew"));
        Assert.That(errors, Has.One.Contains("ClaimsVersions"));
        Assert.That(errors, Has.One.Contains("Issuer"));
    }

    [Test]
    public void AddKey_kidConfiguredWithAnotherSecret_throws()
    {
        var options = new AuthOptions();
        options.Keys["dev"] = s_secret;

        Assert.That(() => options.AddKey(TokenForge.NewKey("dev")), Throws.TypeOf<AuthConfigurationException>());
    }
}
