using Relay.Core.Auth;

namespace Relay.Tests.Auth;

/// <summary>Rotation: while both keys are configured, tokens under either kid are accepted.</summary>
[TestFixture]
public sealed class KeyRotationTests
{
    private static readonly HmacKey s_old = TokenForge.NewKey("2026-05");
    private static readonly HmacKey s_new = TokenForge.NewKey("2026-06");

    [Test]
    public async Task Validate_tokensUnderOldAndNewKid_bothSucceedWhileBothKeysAreConfigured()
    {
        var validator = new TokenValidator(TokenForge.Options(s_old, s_new));

        var old = await validator.ValidateAsync(TokenForge.Hs256(s_old));
        var current = await validator.ValidateAsync(TokenForge.Hs256(s_new));

        Assert.That(old.Principal?.KeyId, Is.EqualTo("2026-05"));
        Assert.That(current.Principal?.KeyId, Is.EqualTo("2026-06"));
    }

    [Test]
    public async Task Validate_tokenUnderRetiredKid_isUnknownKey()
    {
        var validator = new TokenValidator(TokenForge.Options(s_new));

        Assert.That((await validator.ValidateAsync(TokenForge.Hs256(s_old))).Failure?.Reason, Is.EqualTo(AuthFailureReason.UnknownKey));
    }

    [Test]
    public async Task Validate_tokenOfOneKidSignedWithTheOther_isBadSignature()
    {
        var validator = new TokenValidator(TokenForge.Options(s_old, s_new));

        var token = TokenForge.Hs256(s_new with { Secret = s_old.Secret });

        Assert.That((await validator.ValidateAsync(token)).Failure?.Reason, Is.EqualTo(AuthFailureReason.BadSignature));
    }
}
