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
    public async Task Validate_mountedSecretSwappedBySymlinks_isReloaded()
    {
        // A Kubernetes secret volume: jwks.json -> ..data/jwks.json, ..data -> a timestamped folder, swapped atomically.
        var mount = Directory.CreateDirectory(Path.Combine(_directory, "mount")).FullName;
        void Version(string name, string json)
        {
            Directory.CreateDirectory(Path.Combine(mount, name));
            File.WriteAllText(Path.Combine(mount, name, "jwks.json"), json);
        }
        Version("..2026_a", TokenForge.Jwks(("rsa-1", _first)));
        Directory.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_a");
        File.CreateSymbolicLink(Path.Combine(mount, "jwks.json"), "..data/jwks.json");
        var validator = new TokenValidator(new AuthOptions { JwksFile = Path.Combine(mount, "jwks.json") }, timeProvider: _time);

        Version("..2026_b", TokenForge.Jwks(("rsa-2", _second)));
        // The kubelet renames a new link over ..data; unlinking and linking again leaves the same files.
        File.Delete(Path.Combine(mount, "..data"));
        Directory.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_b");
        _time.Advance(JwksKeySet.CheckInterval);

        // Before, the link's own time and size were compared, which the swap leaves as they were.
        Assert.That((await ValidateAsync(validator, "rsa-2", _second)).Principal?.KeyId, Is.EqualTo("rsa-2"));
        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));
    }

    [TestCase("""{"keys":[]}""")]
    [TestCase("{}")]
    public async Task Validate_fileLeftWithoutAUsableKeyAfterStart_keepsThePreviousKeys(string json)
    {
        var validator = Validator();

        // Refused at start; before, a reload took it and refused every token from then on.
        Rewrite(json);
        _time.Advance(JwksKeySet.CheckInterval);

        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }

    [Test]
    public async Task Validate_keyGivenWithItsPrivatePart_isIgnored()
    {
        var withPrivate = System.Text.Json.Nodes.JsonNode.Parse(TokenForge.Jwks(("rsa-1", _first), ("rsa-2", _second)))!;
        withPrivate["keys"]![1]!["d"] = Convert.ToBase64String(_second.ExportParameters(includePrivateParameters: true).D!)
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        File.WriteAllText(_path, withPrivate.ToJsonString());

        var validator = Validator();

        // Before, loaded without a word: a signing key copied onto every relay.
        Assert.That((await ValidateAsync(validator, "rsa-2", _second)).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));
        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }

    [Test]
    public async Task Validate_entryIdentityModelCannotRead_isIgnored_notTheWholeFile()
    {
        var validator = Validator();
        var file = System.Text.Json.Nodes.JsonNode.Parse(TokenForge.Jwks(("rsa-1", _first), ("rsa-2", _second)))!;
        file["keys"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{"kty":"RSA","kid":"odd","x5c":"not an array"}"""));
        file["keys"]!.AsArray().Add(1);

        // Before, the file was "not a JWKS document": the reload kept the old keys, so rsa-2 never came in.
        Rewrite(file.ToJsonString());
        _time.Advance(JwksKeySet.CheckInterval);

        Assert.That((await ValidateAsync(validator, "rsa-2", _second)).Principal?.KeyId, Is.EqualTo("rsa-2"));
        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }

    [Test]
    public void Create_fileWithoutUsableKey_throwsNamingTheFile()
    {
        using var small = RSA.Create(1024);
        File.WriteAllText(_path, TokenForge.Jwks(("rsa-small", small)));

        Assert.That(() => Validator(),
            Throws.TypeOf<AuthConfigurationException>().With.Message.Contain(_path).And.Message.Contain("no usable signing key"));
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

    [Test]
    public async Task Validate_fileWithOnlyAnEcP256Key_acceptsEs256Tokens()
    {
        // Before, a JWKS of ES256 keys (a common default of identity providers) was refused at start: no RSA key.
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(_path, TokenForge.Jwks(("ec-1", ec)));

        var result = await Validator().ValidateAsync(TokenForge.Es256("ec-1", ec));

        Assert.That(result.Principal?.KeyId, Is.EqualTo("ec-1"));
    }

    [TestCase("crv", "P-384", TestName = "Validate_ecKeyOnAnotherCurve_isIgnored")]
    [TestCase("alg", "ES384", TestName = "Validate_ecKeyForAnotherAlgorithm_isIgnored")]
    [TestCase("alg", "RS256", TestName = "Validate_ecKeySayingRs256_isIgnored")]
    [TestCase("x", "AAAA", TestName = "Validate_ecKeyWithATruncatedPoint_isIgnored")]
    public async Task Validate_unusableEcKey_isIgnored(string member, string value)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = TokenForge.Jwk("ec-1", ec);
        jwk[member] = value;
        await AssertIgnoredAsync(jwk, ec);
    }

    [Test]
    public async Task Validate_ecKeyWithAPointOffTheCurve_isIgnored()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = TokenForge.Jwk("ec-1", ec);
        var y = System.Buffers.Text.Base64Url.DecodeFromChars((string)jwk["y"]!);
        y[^1] ^= 1;
        jwk["y"] = System.Buffers.Text.Base64Url.EncodeToString(y);
        await AssertIgnoredAsync(jwk, ec);
    }

    /// <summary>Beside a usable RSA key, <paramref name="jwk"/> is ignored: its ES256 tokens name an unknown key.</summary>
    private async Task AssertIgnoredAsync(System.Text.Json.Nodes.JsonObject jwk, ECDsa ec)
    {
        File.WriteAllText(_path, new System.Text.Json.Nodes.JsonObject
        {
            ["keys"] = new System.Text.Json.Nodes.JsonArray(TokenForge.Jwk("rsa-1", _first), jwk),
        }.ToJsonString());

        var validator = Validator();

        Assert.That((await validator.ValidateAsync(TokenForge.Es256("ec-1", ec))).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));
        Assert.That((await ValidateAsync(validator, "rsa-1", _first)).Succeeded, Is.True);
    }
}
