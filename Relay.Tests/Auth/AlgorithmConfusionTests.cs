using System.Security.Cryptography;
using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>
/// The key named by <c>kid</c> fixes the algorithm: an RSA key's public half used as an HMAC secret, or any mix of
/// HS256 and RS256 keys and tokens, is refused before any signature is computed.
/// </summary>
[TestFixture]
public sealed class AlgorithmConfusionTests
{
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly HmacKey _hmac = TokenForge.NewKey("hs-1");
    private string _directory = "";
    private TokenValidator _validator = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("relay-auth-").FullName;
        var jwks = Path.Combine(_directory, "jwks.json");
        File.WriteAllText(jwks, TokenForge.Jwks(("rsa-1", _rsa)));
        var options = TokenForge.Options(_hmac);
        options.JwksFile = jwks;
        _validator = new TokenValidator(options);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [OneTimeTearDown]
    public void DisposeKey() => _rsa.Dispose();

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
}
