using System.CommandLine;

namespace Relay.Host.Cli;

/// <summary>
/// <c>relay probe [--url URL]</c>: asks a relay's <c>/readyz</c> and exits 0 when it is ready, 1 with the reason when
/// not. The container image's <c>HEALTHCHECK</c> uses it, since the runtime image has no curl.
/// </summary>
internal static class ProbeCommand
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var url = CliOptions.RelayUrl();
        var command = new Command("probe", "Exit 0 when the relay at --url is ready (GET /readyz), else 1 with the reason") { url };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var http = new HttpClient { BaseAddress = result.GetRequiredValue(url), Timeout = s_timeout };
            try
            {
                using var response = await http.GetAsync("/readyz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return 0;
                }
                await result.InvocationConfiguration.Error.WriteLineAsync(
                    $"relay: not ready ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"relay: no answer from {http.BaseAddress}readyz: {e.Message}");
            }
            return 1;
        });
        return command;
    }
}
