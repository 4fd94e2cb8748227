using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Relay.Host.Configuration;

namespace Relay.Tests.Cli;

/// <summary>
/// Keys under <c>Relay</c> that no options class reads stop the start, and so do settings that contradict each other;
/// every documented key is accepted.
/// </summary>
public sealed class UnknownSettingsTests
{
    [Test]
    public void Validate_everyDocumentedSetting_isAccepted()
    {
        // One key of each section and each collection form, in the casing environment variables often have.
        var configuration = Configuration(new()
        {
            ["Relay:ConnectionString"] = "Host=localhost",
            ["Relay:Feed"] = "notify",
            ["Relay:DataDirectory"] = ".relay",
            ["Relay:DatabaseConnections"] = "8",
            ["Relay:AutoMigrate"] = "false",
            ["Relay:ReconnectDelay"] = "00:00:00.100",
            ["Relay:MaxReconnectDelay"] = "00:00:10",
            ["Relay:IdleAcknowledgeInterval"] = "00:00:10",
            ["Relay:NotifyPollInterval"] = "00:00:01",
            ["Relay:NotifyReadBatch"] = "1000",
            ["Relay:TopicLogs:RingCapacity"] = "10",
            ["Relay:TopicLogs:PointerCacheBytes"] = "0",
            ["RELAY:SYNC:SENDTIMEOUT"] = "00:00:05",
            ["Relay:Metrics:PollInterval"] = "00:00:15",
            ["Relay:StatusPage:Enabled"] = "true",
            ["Relay:Cors:Origins:0"] = "https://app.example.com",
            ["Relay:Cors:AllowLocalhost"] = "false",
            ["Relay:Auth:Keys:k1"] = "c2VjcmV0",
            ["Relay:Auth:JwksFile"] = "jwks.json",
            ["Relay:Auth:Issuer"] = "https://issuer.example.com",
            ["Relay:Auth:Audience"] = "relay",
            ["Relay:Auth:ClockSkew"] = "00:00:30",
            ["Relay:Auth:ClaimsVersions:0"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        });

        Assert.That(RelayOptionsRegistration.Validate(configuration).Feed, Is.EqualTo("notify"));
    }

    [TestCase("Relay:Cors:Origins", "https://app.example.com", "Relay:Cors:Origins is a list, given one value: give each entry its own key, Relay__Cors__Origins__0=…")]
    [TestCase("Relay:Auth:ClaimsVersions", "2", "Relay:Auth:ClaimsVersions is a list, given one value: give each entry its own key, Relay__Auth__ClaimsVersions__0=…")]
    [TestCase("Relay:Auth:Keys", "c2VjcmV0", "Relay:Auth:Keys is a map, given one value: give each entry its own key, Relay__Auth__Keys__<name>=…")]
    public void Validate_listGivenOneValue_isRefused_notSkipped(string key, string value, string failure)
    {
        // The binder skipped it: Relay__Cors__Origins=https://… allowed no origin, without a word.
        var configuration = Configuration(new() { [key] = value, ["Relay:Auth:Keys:k1"] = "c2VjcmV0" });

        var error = Assert.Throws<OptionsValidationException>(() => RelayOptionsRegistration.Validate(configuration))!;

        Assert.That(error.Failures, Has.One.StartsWith(failure));
    }

    [TestCase("Relay:ConectionString", "Relay:ConectionString is not a setting of the relay (Relay takes AutoMigrate, ConnectionString,")]
    [TestCase("Relay:Sycn:SendTimeout", "Relay:Sycn is not a setting of the relay (Relay takes")]
    [TestCase("Relay:Sync:SendTimeOut2", "Relay:Sync:SendTimeOut2 is not a setting of the relay (Relay:Sync takes HeartbeatInterval,")]
    [TestCase("Relay:Auth:Key:k1", "Relay:Auth:Key is not a setting of the relay (Relay:Auth takes Audience, ClaimsVersions, ClockSkew, Issuer, JwksFile, Keys;")]
    public void Validate_keyNoOptionsClassReads_namesItAndWhatItsSectionTakes(string key, string failure)
    {
        var configuration = Configuration(new() { [key] = "00:00:05" });

        var error = Assert.Throws<OptionsValidationException>(() => RelayOptionsRegistration.Validate(configuration))!;

        Assert.That(error.Failures, Has.One.StartsWith(failure));
    }

    [Test]
    public void Validate_severalUnknownKeysOfOneSection_oneFailureNamingEach()
    {
        var configuration = Configuration(new() { ["Relay:Fed"] = "notify", ["Relay:AutoMigrat"] = "false" });

        var error = Assert.Throws<OptionsValidationException>(() => RelayOptionsRegistration.Validate(configuration))!;

        Assert.That(error.Failures, Has.One.StartsWith("Relay:AutoMigrat and Relay:Fed are not settings of the relay (Relay takes"));
    }

    [Test]
    public void Validate_firstReconnectDelayLongerThanTheLongest_namesBoth()
    {
        var configuration = Configuration(new() { ["Relay:ReconnectDelay"] = "00:00:05", ["Relay:MaxReconnectDelay"] = "00:00:01" });

        var error = Assert.Throws<OptionsValidationException>(() => RelayOptionsRegistration.Validate(configuration))!;

        Assert.That(error.Failures, Has.One.Contains("ReconnectDelay (00:00:05) is longer than MaxReconnectDelay (00:00:01)"));
    }

    [Test]
    public void Get_forTheVerbsThatRunNoHost_refusesAnUnknownKeyToo()
    {
        // A typo'd connection string would otherwise send relay status to the embedded database.
        var configuration = Configuration(new() { ["Relay:ConectionString"] = "Host=db.internal" });

        Assert.Throws<OptionsValidationException>(() => RelayOptionsRegistration.Get<RelayOptions>(configuration));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
