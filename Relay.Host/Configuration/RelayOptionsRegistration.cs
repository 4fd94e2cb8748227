using Microsoft.Extensions.Options;
using Relay.Core.Auth;
using Relay.Core.Feeds;
using Relay.Core.Topics;
using Relay.Host.Cors;
using Relay.Host.Diagnostics;
using Relay.Host.Sync;

namespace Relay.Host.Configuration;

/// <summary>
/// Binds every options class of the relay to its configuration section with a source-generated validator and
/// <c>ValidateOnStart</c>, so an invalid setting (<c>Relay:TopicLogs:RingCapacity=0</c>) or a key under <c>Relay</c> that
/// none of them reads (<see cref="UnknownSettingsValidator"/>) stops the start with one line naming it, never a crash later.
/// </summary>
internal static class RelayOptionsRegistration
{
    /// <summary>Registers <c>IOptions&lt;T&gt;</c> for each options class, validated at start.</summary>
    public static IServiceCollection AddRelayOptions(this IServiceCollection services)
    {
        services.Add<RelayOptions, RelayOptionsValidator>(RelayOptions.Section);
        services.Add<FeedOptions, FeedOptionsValidator>(RelayOptions.Section);
        services.Add<TopicLogOptions, TopicLogOptionsValidator>($"{RelayOptions.Section}:TopicLogs");
        services.Add<SyncOptions, SyncOptionsValidator>($"{RelayOptions.Section}:Sync");
        services.Add<MetricsOptions, MetricsOptionsValidator>(MetricsOptions.Section);
        // No validator, but bound at start all the same, so that a value that does not convert stops it there.
        services.AddOptions<StatusPageOptions>().BindConfiguration(StatusPageOptions.Section).ValidateOnStart();
        services.AddOptions<RelayCorsOptions>().BindConfiguration(RelayCorsOptions.Section).ValidateOnStart();
        services.AddSingleton(new BoundSection(StatusPageOptions.Section, typeof(StatusPageOptions)));
        services.AddSingleton(new BoundSection(RelayCorsOptions.Section, typeof(RelayCorsOptions)));
        // Validated by the auth setup, which also reads the JWKS file.
        services.AddSingleton(new BoundSection(AuthOptions.Section, typeof(AuthOptions)));
        services.AddSingleton<IValidateOptions<RelayOptions>, UnknownSettingsValidator>();
        return services;
    }

    /// <summary>Checks every options class against <paramref name="configuration"/>, as the host does at start.</summary>
    /// <returns>The validated <see cref="RelayOptions"/>.</returns>
    /// <exception cref="OptionsValidationException">A setting is invalid; the failures name each one.</exception>
    public static RelayOptions Validate(IConfiguration configuration)
    {
        using var provider = Provider(configuration);
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OptionsValidationException))
        {
            // Several classes are invalid: one exception listing all their failures.
            throw new OptionsValidationException(
                RelayOptions.Section, typeof(RelayOptions), e.InnerExceptions.SelectMany(inner => ((OptionsValidationException)inner).Failures));
        }
        return provider.GetRequiredService<IOptions<RelayOptions>>().Value;
    }

    /// <summary>One validated options class, for the verbs that run no host.</summary>
    /// <exception cref="OptionsValidationException">A setting of <typeparamref name="T"/> is invalid.</exception>
    public static T Get<T>(IConfiguration configuration)
        where T : class
    {
        using var provider = Provider(configuration);
        return provider.GetRequiredService<IOptions<T>>().Value;
    }

    private static ServiceProvider Provider(IConfiguration configuration) =>
        new ServiceCollection().AddSingleton(configuration).AddRelayOptions().BuildServiceProvider();

    private static void Add<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>, new()
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new SectionValidator<TOptions>(new TValidator(), section));
        services.AddSingleton(new BoundSection(section, typeof(TOptions)));
    }
}
