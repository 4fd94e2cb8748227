using Microsoft.Extensions.Options;

namespace Relay.Host.Cors;

/// <summary>
/// CORS for the relay's HTTP endpoints through ASP.NET Core's CORS middleware, from <see cref="RelayCorsOptions"/>:
/// <c>GET</c> with an <c>Authorization</c> header from the allowed origins, no cookies (tokens are bearer tokens).
/// </summary>
public static class RelayCors
{
    /// <summary>How long a browser may cache a preflight answer: 10 minutes.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Registers the default CORS policy from <c>Relay:Cors</c>; <paramref name="embedded"/> (<c>relay up</c>) allows
    /// localhost origins unless <see cref="RelayCorsOptions.AllowLocalhost"/> says otherwise.
    /// </summary>
    /// <exception cref="OptionsValidationException">An origin is not <c>*</c> nor <c>scheme://host[:port]</c>.</exception>
    public static IServiceCollection AddRelayCors(this IServiceCollection services, IConfiguration configuration, bool embedded)
    {
        var options = configuration.GetSection(RelayCorsOptions.Section).Get<RelayCorsOptions>() ?? new RelayCorsOptions();
        var invalid = options.Origins.Where(origin => origin != "*" && !IsOrigin(origin)).ToList();
        if (invalid.Count > 0)
        {
            throw new OptionsValidationException(RelayCorsOptions.Section, typeof(RelayCorsOptions), invalid.Select(origin =>
                $"{RelayCorsOptions.Section}:Origins: '{origin}' is not an origin; write scheme://host[:port] (https://admin.example.com) or *"));
        }
        var allowLocalhost = options.AllowLocalhost ?? embedded;
        var origins = new HashSet<string>(options.Origins, StringComparer.OrdinalIgnoreCase);
        return services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.SetIsOriginAllowed(origin => origins.Contains(origin) || (allowLocalhost && IsLocalhost(origin)));
            }
            policy.WithMethods(HttpMethods.Get)
                .WithHeaders("Authorization")
                .WithExposedHeaders("WWW-Authenticate")
                .SetPreflightMaxAge(PreflightMaxAge);
        }));
    }

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.GetLeftPart(UriPartial.Authority).Equals(origin, StringComparison.OrdinalIgnoreCase);

    private static bool IsLocalhost(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme == Uri.UriSchemeHttp
        && uri.Host is "localhost" or "127.0.0.1"
        && IsOrigin(origin);
}
