using System.Security.Cryptography;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>The JWKS file is reloaded when it changes, checked at most once per second.</summary>
[TestFixture]
public sealed class JwksReloadTests
{
    private readonly RSA _first = RSA.Create(2048);
    private readonly RSA _second = RSA.Create(2048);
    private readonly ManualTimeProvider _time = new();
    private string _directory = "";
    private string _path = "";

    [SetUp]
    public void SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("relay-jwks-").FullName;
        _path = Path.Combine(_directory, "jwks.json");
        File.WriteAllText(_path, TokenForge.Jwks(("rsa-1", _first)));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [OneTimeTearDown]
    public void DisposeKeys()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private TokenValidator Validator() => new(new AuthOptions { JwksFile = _path }, timeProvider: _time);

    private void Rewrite(string json)
    {
        var before = File.GetLastWriteTimeUtc(_path);
        File.WriteAllText(_path, json);
        // Some file systems keep whole seconds: make the change visible whatever the clock's resolution.
        File.SetLastWriteTimeUtc(_path, before.AddSeconds(2));
    }

    private async Task<AuthResult> ValidateAsync(TokenValidator validator, string kid, RSA rsa) =>
        await validator.ValidateAsync(TokenForge.Rs256(kid, rsa));

    [Test]
    public async Task Validate_newKidWrittenToTheFile_isAcceptedAfterTheCheckInterval()
    {
        var validator = Validator();
        Assert.That((await ValidateAsync(validator, "rsa-2", _second)).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));

        Rewrite(TokenForge.Jwks(("rsa-1", _first), ("rsa-2", _second)));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var early = await ValidateAsync(validator, "rsa-2", _second);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var later = await ValidateAsync(validator, "rsa-2", _second);

        Assert.That(early.Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey), "checked before the interval");
        Assert.That(later.Principal?.KeyId, Is.EqualTo("rsa-2"));
        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }

    [Test]
    public async Task Validate_kidRemovedFromTheFile_isRefused()
    {
        var validator = Validator();

        Rewrite(TokenForge.Jwks(("rsa-2", _second)));
        _time.Advance(JwksKeySet.CheckInterval);

        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));
    }

    [Test]
    public async Task Validate_fileBrokenAfterStart_keepsThePreviousKeys()
    {
        var validator = Validator();

        Rewrite("{ not json");
        _time.Advance(JwksKeySet.CheckInterval);

        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }

    [Test]
    public void Create_fileWithoutUsableKey_throwsNamingTheFile()
    {
        using var small = RSA.Create(1024);
        File.WriteAllText(_path, TokenForge.Jwks(("rsa-small", small)));

        Assert.That(() => Validator(),
            Throws.TypeOf<AuthConfigurationException>().With.Message.Contain(_path).And.Message.Contain("no usable RS256"));
    }

    [Test]
    public void Create_fileThatIsNotJwks_throws()
    {
        File.WriteAllText(_path, "[]");

        Assert.That(() => Validator(), Throws.TypeOf<AuthConfigurationException>().With.Message.Contain("not a JWKS"));
    }

    [Test]
    public async Task Validate_jwksKeyWithTheKidOfAnHmacKey_isIgnored()
    {
        var hmac = TokenForge.NewKey("shared");
        File.WriteAllText(_path, TokenForge.Jwks(("rsa-1", _first), ("shared", _second)));
        var options = TokenForge.Options(hmac);
        options.JwksFile = _path;
        var validator = new TokenValidator(options);

        Assert.That((await ValidateAsync(validator, "shared", _second)).Failure?.Reason, Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
        Assert.That((await validator.ValidateAsync(TokenForge.Hs256(hmac))).Succeeded, Is.True);
    }
}
