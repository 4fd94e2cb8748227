using Relay.Core.Auth;
using Relay.Host.Development;

namespace Relay.Tests.Auth;

/// <summary>The development key is created once, readable by its owner only, and the tokens minted with it verify.</summary>
[TestFixture]
public sealed class DevTokensTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = Path.Combine(Directory.CreateTempSubdirectory("relay-dev-").FullName, ".relay");

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);

    [Test]
    public void EnsureDevKey_firstRun_createsAnOwnerOnlyFileWithA256BitKey()
    {
        var key = DevTokens.EnsureDevKey(_directory);

        var path = Path.Combine(_directory, DevTokens.DevKeyFileName);
        Assert.That(File.Exists(path), Is.True);
        Assert.That(key.KeyId, Does.Match("^dev-[0-9]{8}$"));
        Assert.That(key.Secret, Has.Length.EqualTo(32));
        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
    }

    [Test]
    public void EnsureDevKey_secondRun_reusesTheKey()
    {
        var first = DevTokens.EnsureDevKey(_directory);
        var second = DevTokens.EnsureDevKey(_directory);

        Assert.That(second.KeyId, Is.EqualTo(first.KeyId));
        Assert.That(second.Secret, Is.EqualTo(first.Secret));
    }

    [Test]
    public void EnsureDevKey_damagedFile_throwsSayingToDeleteIt()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, DevTokens.DevKeyFileName), """{"kid":"dev","secret":"c2hvcnQ="}""");

        Assert.That(() => DevTokens.EnsureDevKey(_directory),
            Throws.TypeOf<AuthConfigurationException>().With.Message.Contain("delete it"));
    }

    [Test]
    public async Task Mint_withTheDevKey_isAcceptedByAValidatorTrustingIt()
    {
        var key = DevTokens.EnsureDevKey(_directory);
        var options = new AuthOptions { Issuer = "relay-dev", Audience = "relay" };
        options.AddKey(key);

        var token = DevTokens.Mint(key, new DevTokenRequest("user_1", "org_1", ["runtime.*"], TimeSpan.FromMinutes(5))
        {
            Issuer = "relay-dev",
            Audience = "relay",
        });
        var result = await new TokenValidator(options).ValidateAsync(token);

        Assert.That(result.Succeeded, Is.True, result.ToString());
        Assert.That(result.Principal!.Subject, Is.EqualTo("user_1"));
        Assert.That(result.Principal.OrgId, Is.EqualTo("org_1"));
        Assert.That(result.Principal.KeyId, Is.EqualTo(key.KeyId));
        Assert.That(result.Principal.TokenId, Has.Length.EqualTo(22));
        Assert.That(result.Principal.ExpiresAt - DateTimeOffset.UtcNow, Is.GreaterThan(TimeSpan.FromMinutes(4)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(5)));
    }

    [Test]
    public void Mint_twice_givesEachTokenItsOwnJti()
    {
        var key = TokenForge.NewKey("k");
        var request = new DevTokenRequest("u", "o", ["a.b"], TimeSpan.FromMinutes(1));

        var first = DevTokens.Mint(key, request);
        var second = DevTokens.Mint(key, request);

        Assert.That(second, Is.Not.EqualTo(first));
    }

    [TestCase("", "org", "a.b", 60)]
    [TestCase("user", " ", "a.b", 60)]
    [TestCase("user", "org", "A.B", 60)]
    [TestCase("user", "org", "a.b", 0)]
    public void Mint_invalidRequest_throws(string subject, string org, string scope, int seconds) =>
        Assert.That(() => DevTokens.Mint(TokenForge.NewKey("k"), new DevTokenRequest(subject, org, [scope], TimeSpan.FromSeconds(seconds))),
            Throws.InstanceOf<ArgumentException>());
}
