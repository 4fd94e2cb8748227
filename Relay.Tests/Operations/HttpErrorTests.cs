using System.Net;
using System.Text.Json;

namespace Relay.Tests.Operations;

/// <summary>Every HTTP error carries <c>{"error","message"}</c>, never an empty body.</summary>
public sealed class HttpErrorTests
{
    private static RelayServerHarness s_relay = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => s_relay = await RelayServerHarness.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await s_relay.DisposeAsync();

    [TestCase("/sync/v1/ws", HttpStatusCode.BadRequest, "BAD_REQUEST", "WebSocket upgrade")]
    [TestCase("/sync/v1/list/test.anything?limit=abc", HttpStatusCode.BadRequest, "BAD_REQUEST", "limit is a whole number from 1 to 500")]
    [TestCase("/sync/v1/list/test.anything?limit=0", HttpStatusCode.BadRequest, "BAD_REQUEST", "limit is a whole number from 1 to 500")]
    [TestCase("/sync/v1/list/test.anything?limit=-5", HttpStatusCode.BadRequest, "BAD_REQUEST", "got '-5'")]
    [TestCase("/sync/v1/list/test.anything?limit=1.5", HttpStatusCode.BadRequest, "BAD_REQUEST", "limit is a whole number from 1 to 500")]
    [TestCase("/socket/websocket", HttpStatusCode.BadRequest, "BAD_REQUEST", "vsn=2.0.0")]
    [TestCase("/no/such/path", HttpStatusCode.NotFound, "NOT_FOUND", "/no/such/path")]
    public async Task Get_failing_answersWithAJsonError(string path, HttpStatusCode status, string code, string mention)
    {
        using var http = s_relay.HttpClient(RelayServerHarness.Token());

        using var response = await http.GetAsync(path);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.That(response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(body.RootElement.GetProperty("error").GetString(), Is.EqualTo(code));
        Assert.That(body.RootElement.GetProperty("message").GetString(), Does.Contain(mention));
    }
}
