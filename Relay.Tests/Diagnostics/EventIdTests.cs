using System.Reflection;
using Microsoft.Extensions.Logging;
using Relay.Core.Diagnostics;

namespace Relay.Tests.Diagnostics;

/// <summary>Every log event of the relay has an id of its own, inside its subsystem's range of <see cref="RelayEventIds"/>.</summary>
public sealed class EventIdTests
{
    private static readonly Assembly[] s_assemblies = [typeof(RelayEventIds).Assembly, typeof(Relay.Host.Program).Assembly];

    [Test]
    public void LoggerMessages_eachHaveAnIdOfTheirOwn_insideADeclaredRange()
    {
        var ranges = typeof(RelayEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => (Name: field.Name, Start: (int)field.GetRawConstantValue()!)).ToList();
        var events = s_assemblies.SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(method => (Method: $"{method.DeclaringType!.FullName}.{method.Name}", Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(entry => entry.Attribute is not null)
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(events, Has.Count.GreaterThan(20), "the scan finds the relay's log events");
            Assert.That(events.GroupBy(entry => entry.Attribute!.EventId).Where(group => group.Count() > 1).Select(group => $"{group.Key}: {string.Join(", ", group.Select(entry => entry.Method))}"),
                Is.Empty, "ids used twice");
            Assert.That(events.Where(entry => !ranges.Any(range => entry.Attribute!.EventId >= range.Start && entry.Attribute.EventId < range.Start + 100))
                .Select(entry => $"{entry.Method}: {entry.Attribute!.EventId}"), Is.Empty, "ids outside every range");
        });
    }
}
