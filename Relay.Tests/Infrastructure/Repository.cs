namespace Relay.Tests;

/// <summary>The repository the tests run from: its docs and sql files are read as the product ships them.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>relay.sln</c>, above the test directory.</summary>
    public static string Root()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "relay.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("relay.sln not found above the test directory");
    }
}
