using System.Diagnostics;
using Relay.Core.Provisioning;

namespace Relay.Host.Development;

/// <summary>Runs a PostgreSQL tool to completion, as the <c>postgres</c> OS user when this process is root.</summary>
internal static class ProcessRunner
{
    /// <summary>PostgreSQL refuses to run as root; <c>runuser</c> drops to this user.</summary>
    public const string PostgresUser = "postgres";

    public static bool RunsAsRoot => Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();

    /// <summary>Runs <paramref name="fileName"/> and returns its standard output; throws with its output on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (RunsAsRoot)
        {
            start.FileName = "runuser";
            foreach (var argument in new[] { "-u", PostgresUser, "--", fileName })
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = fileName;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)
            ?? throw new ProvisioningException($"could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A pg_ctl left running would start a server nobody stops: let it finish, then report the cancellation.
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        if (process.ExitCode != 0)
        {
            throw new ProvisioningException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}".Trim());
        }
        return await output;
    }

    /// <summary>Gives the directory to the <c>postgres</c> user when running as root, so the cluster may own it.</summary>
    public static async Task GiveToPostgresAsync(string directory, CancellationToken cancellationToken = default)
    {
        if (!RunsAsRoot)
        {
            return;
        }
        using var chown = Process.Start("chown", ["-R", $"{PostgresUser}:", directory])
            ?? throw new ProvisioningException("could not start chown");
        await chown.WaitForExitAsync(cancellationToken);
        if (chown.ExitCode != 0)
        {
            throw new ProvisioningException(
                $"could not give {directory} to the '{PostgresUser}' user: PostgreSQL refuses to run as root, so it needs that user");
        }
    }
}
