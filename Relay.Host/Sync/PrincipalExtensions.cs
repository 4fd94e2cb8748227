using Relay.Core.Auth;
using Relay.Core.Journal;

namespace Relay.Host.Sync;

/// <summary>Tenancy rules for a connection's principal.</summary>
internal static class PrincipalExtensions
{
    /// <summary>
    /// A client sees its own organisation's documents and global ones (null org, only on topics created with
    /// <c>require_org = false</c>).
    /// </summary>
    public static bool CanSee(this RelayPrincipal principal, JournalEvent journalEvent) =>
        journalEvent.OrgId is null || journalEvent.OrgId == principal.OrgId;
}
