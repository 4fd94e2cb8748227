using Npgsql;

namespace Relay.Core.Provisioning;

/// <summary>
/// Accepts a connection string as Npgsql keywords (<c>Host=…;Database=…</c>) or as a libpq URL
/// (<c>postgres://user:password@host:port/database?sslmode=require</c>, as <c>DATABASE_URL</c> is usually given; see
/// <see href="https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS">the libpq manual</see>).
/// </summary>
public static class ConnectionStrings
{
    /// <summary>The Npgsql form of <paramref name="connectionString"/>.</summary>
    /// <exception cref="ProvisioningException">Neither form parses.</exception>
    public static string Normalize(string connectionString)
    {
        try
        {
            return IsUrl(connectionString) ? FromUrl(new Uri(connectionString)) : new NpgsqlConnectionStringBuilder(connectionString).ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or KeyNotFoundException)
        {
            throw new ProvisioningException(
                $"the connection string is not valid ({e.Message}): give Npgsql keywords (Host=…;Database=…) or a postgres:// URL", e);
        }
    }

    /// <summary>
    /// <paramref name="connectionString"/> with <paramref name="name"/> as its <c>Application Name</c>, unless it has
    /// one; cut to the 63 bytes PostgreSQL keeps.
    /// </summary>
    public static string WithApplicationName(string connectionString, string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            while (System.Text.Encoding.UTF8.GetByteCount(name) > 63)
            {
                name = name[..^1];
            }
            builder.ApplicationName = name;
        }
        return builder.ConnectionString;
    }

    /// <summary>The host, port, database and user, for messages (never the password).</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"database \"{builder.Database ?? builder.Username}\" as \"{builder.Username}\" on {builder.Host}:{builder.Port}";
    }

    private static bool IsUrl(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    private static string FromUrl(Uri url)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = url.Host };
        if (!url.IsDefaultPort && url.Port > 0)
        {
            builder.Port = url.Port;
        }
        if (url.UserInfo.Split(':', 2) is [var user, ..] && user.Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user);
        }
        if (url.UserInfo.Split(':', 2) is [_, var password])
        {
            builder.Password = Uri.UnescapeDataString(password);
        }
        if (url.AbsolutePath.Trim('/') is { Length: > 0 } database)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            // libpq's parameter names mostly match Npgsql's keywords once underscores go (sslmode → SSL Mode).
            builder[Uri.UnescapeDataString(key) switch
            {
                "sslmode" => "SSL Mode",
                "application_name" => "Application Name",
                "connect_timeout" => "Timeout",
                var other => other,
            }] = Uri.UnescapeDataString(value);
        }
        return builder.ConnectionString;
    }
}
