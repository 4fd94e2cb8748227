using System.Net;
using Microsoft.Extensions.Options;

namespace Relay.Tests.Cors;

/// <summary>CORS on the HTTP endpoints (<c>Relay:Cors</c>), asked the way a browser asks, over a real Kestrel port.</summary>
public sealed class CorsTests
{
    private const string Admin = "https://admin.example.com";

    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync(new Dictionary<string, string>
    {
        ["Relay:Cors:Origins:0"] = Admin,
        ["Relay:Cors:AllowLocalhost"] = "true",
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    private static async Task<HttpResponseMessage> PreflightAsync(string path, string origin)
    {
        using var http = s_relay.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        return await http.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [TestCase(Admin)]
    [TestCase("http://localhost:5173")]
    [TestCase("http://127.0.0.1:41234")]
    public async Task Preflight_fromAnAllowedOrigin_allowsGetWithAuthorization(string origin)
    {
        var topic = await TestTopics.CreateAsync();

        using var response = await PreflightAsync($"/sync/v1/list/{topic}", origin);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(origin));
        Assert.That(Header(response, "Access-Control-Allow-Methods"), Is.EqualTo("GET"));
        Assert.That(Header(response, "Access-Control-Allow-Headers"), Is.EqualTo("Authorization"));
        Assert.That(Header(response, "Access-Control-Max-Age"), Is.EqualTo("600"));
    }

    [TestCase("https://evil.example.com")]
    [TestCase("http://localhost.evil.example.com")]
    [TestCase("https://localhost:5173")]
    public async Task Preflight_fromAnotherOrigin_allowsNothing(string origin)
    {
        using var response = await PreflightAsync("/sync/v1/doc/any", origin);

        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
        Assert.That(Header(response, "Access-Control-Allow-Methods"), Is.Null);
    }

    [Test]
    public async Task SimpleGet_fromAnAllowedOrigin_carriesTheOriginAndTheDocument()
    {
        var topic = await TestTopics.CreateAsync();
        await Sql.ExecuteAsync("SELECT relay.publish($1, $1 || ':a', '{\"n\": 1}')", topic);
        using var http = s_relay.HttpClient(RelayServerHarness.Token());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/sync/v1/doc/{topic}:a?topic={topic}");
        request.Headers.Add("Origin", Admin);

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Admin));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("\"n\": 1"));
    }

    [Test]
    public async Task RefusedToken_fromAnAllowedOrigin_letsTheBrowserReadThe401()
    {
        using var http = s_relay.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sync/v1/list/test.anything");
        request.Headers.Add("Origin", Admin);

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Admin));
        Assert.That(Header(response, "Access-Control-Expose-Headers"), Is.EqualTo("WWW-Authenticate"));
    }

    [Test]
    public async Task Start_withAnOriginThatHasAPath_failsNamingIt()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => RelayServerHarness.StartAsync(new Dictionary<string, string>
        {
            ["Relay:Cors:Origins:0"] = "https://admin.example.com/app",
        }));

        Assert.That(failure!.Message, Does.Contain("'https://admin.example.com/app' is not an origin"));
    }
}
