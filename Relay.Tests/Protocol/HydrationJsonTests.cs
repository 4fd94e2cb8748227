using System.Text;
using System.Text.Json;
using Relay.Protocol;
using Relay.Protocol.Hashing;
using Relay.Protocol.Hydration;

namespace Relay.Tests.Protocol;

/// <summary>The HTTP bodies as the relay writes them and the C# client reads them, through the one shared context.</summary>
[TestFixture]
public sealed class HydrationJsonTests
{
    /// <summary>Spacing, an integer over 2^53 and escapes: what a parse-and-reserialize would change.</summary>
    private static readonly byte[] s_payload = Encoding.UTF8.GetBytes("""{"b": 1,  "a": [155627012252807600, "\u00e9\u2028"]}""");

    [Test]
    public void DocumentResponse_isWrittenInTheContractsShape()
    {
        var hash = PayloadHash.Compute(s_payload);
        var response = new DocumentResponse("t.a", "d1", 3, s_payload, hash, Watermark: 7);

        var json = JsonSerializer.Serialize(response, HydrationJsonContext.Default.DocumentResponse);

        Assert.That(json, Is.EqualTo(
            $$"""{"topic":"t.a","docKey":"d1","docVersion":3,"payload":{{Encoding.UTF8.GetString(s_payload)}},"payloadHash":"{{Convert.ToBase64String(hash)}}","watermark":7}"""));
    }

    [Test]
    public void DocumentResponse_withoutWatermark_omitsIt()
    {
        var response = new DocumentResponse("t.a", "d1", 3, s_payload, PayloadHash.Compute(s_payload), Watermark: null);

        using var json = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(response, HydrationJsonContext.Default.DocumentResponse));

        Assert.That(json.RootElement.TryGetProperty("watermark", out _), Is.False);
    }

    [Test]
    public void DocumentPage_roundTrips_withPayloadBytesVerbatim()
    {
        var page = new DocumentPage("t.a", 42, [new HydratedDocument("d1", 3, s_payload, PayloadHash.Compute(s_payload))], Next: null);

        var read = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(page, HydrationJsonContext.Default.DocumentPage), HydrationJsonContext.Default.DocumentPage)!;

        Assert.That((read.Topic, read.Watermark, read.Next, read.Documents.Count), Is.EqualTo(("t.a", 42L, (string?)null, 1)));
        Assert.That(read.Documents[0].Payload.ToArray(), Is.EqualTo(s_payload));
        Assert.That(read.Documents[0].PayloadHash.ToArray(), Is.EqualTo(PayloadHash.Compute(s_payload)));
    }

    [Test]
    public void DocumentPage_nextOnLastPage_isWrittenAsNull()
    {
        var json = JsonSerializer.Serialize(new DocumentPage("t.a", 0, [], Next: null), HydrationJsonContext.Default.DocumentPage);

        Assert.That(json, Is.EqualTo("""{"topic":"t.a","watermark":0,"documents":[],"next":null}"""));
    }

    [Test]
    public void HttpError_isErrorAndMessage()
    {
        var json = JsonSerializer.Serialize(new HttpError(HttpErrorCodes.NotFound, "no such document"), HydrationJsonContext.Default.HttpError);

        Assert.That(json, Is.EqualTo("""{"error":"NOT_FOUND","message":"no such document"}"""));
    }
}
