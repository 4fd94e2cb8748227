using System.Security.Cryptography;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>
/// The key named by <c>kid</c> fixes the algorithm: an RSA or EC key's public half used as an HMAC secret, or any mix
/// of HS256, RS256 and ES256 keys and tokens, is refused before any signature is computed.
/// </summary>
[TestFixture]
public sealed class AlgorithmConfusionTests
{
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly HmacKey _hmac = TokenForge.NewKey("hs-1");
    private string _directory = "";
    private TokenValidator _validator = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("relay-auth-").FullName;
        var jwks = Path.Combine(_directory, "jwks.json");
        File.WriteAllText(jwks, TokenForge.Jwks(("rsa-1", _rsa), ("ec-1", _ec)));
        var options = TokenForge.Options(_hmac);
        options.JwksFile = jwks;
        _validator = new TokenValidator(options);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [OneTimeTearDown]
    public void DisposeKeys()
    {
        _rsa.Dispose();
        _ec.Dispose();
    }

    [Test]
    public async Task Validate_rs256Token_succeeds() =>
        Assert.That((await _validator.ValidateAsync(TokenForge.Rs256("rsa-1", _rsa))).Principal?.KeyId, Is.EqualTo("rsa-1"));

    [TestCase("spki-der")]
    [TestCase("spki-pem")]
    [TestCase("pkcs1-der")]
    public async Task Validate_hs256SignedWithTheRsaPublicKey_isAlgorithmNotAllowed(string form)
    {
        var secret = form switch
        {
            "spki-der" => _rsa.ExportSubjectPublicKeyInfo(),
            "spki-pem" => System.Text.Encoding.ASCII.GetBytes(_rsa.ExportSubjectPublicKeyInfoPem()),
            _ => _rsa.ExportRSAPublicKey(),
        };
        var token = TokenForge.HmacWith(secret, TokenForge.Header("HS256", "rsa-1"));

        Assert.That((await _validator.ValidateAsync(token)).Failure?.Reason, Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
    }

    [Test]
    public async Task Validate_rs256TokenNamingAnHmacKid_isAlgorithmNotAllowed() =>
        Assert.That((await _validator.ValidateAsync(TokenForge.Rs256(_hmac.KeyId, _rsa))).Failure?.Reason,
            Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));

    [Test]
    public async Task Validate_es256Token_succeeds() =>
        Assert.That((await _validator.ValidateAsync(TokenForge.Es256("ec-1", _ec))).Principal?.KeyId, Is.EqualTo("ec-1"));

    [Test]
    public async Task Validate_es256TokenSignedWithAnotherEcKey_isBadSignature()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.That((await _validator.ValidateAsync(TokenForge.Es256("ec-1", other))).Failure?.Reason, Is.EqualTo(AuthFailureReason.BadSignature));
    }

    [Test]
    public async Task Validate_hs256SignedWithTheEcPublicKey_isAlgorithmNotAllowed()
    {
        var token = TokenForge.HmacWith(_ec.ExportSubjectPublicKeyInfo(), TokenForge.Header("HS256", "ec-1"));

        Assert.That((await _validator.ValidateAsync(token)).Failure?.Reason, Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
    }

    [Test]
    public async Task Validate_tokenOfTheOtherAsymmetricAlgorithm_isAlgorithmNotAllowed()
    {
        // The signatures would not verify anyway; the refusal comes before, from the key's one algorithm.
        var es256NamingRsa = await _validator.ValidateAsync(TokenForge.Es256("rsa-1", _ec));
        var rs256NamingEc = await _validator.ValidateAsync(TokenForge.Rs256("ec-1", _rsa));

        Assert.That(es256NamingRsa.Failure?.Reason, Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
        Assert.That(es256NamingRsa.Failure?.Detail, Does.Contain("kid 'rsa-1' is an RS256 key but the token says ES256"));
        Assert.That(rs256NamingEc.Failure?.Reason, Is.EqualTo(AuthFailureReason.AlgorithmNotAllowed));
    }
}
