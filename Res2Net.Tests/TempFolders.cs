namespace Res2Net.Tests;

/// <summary>
/// Scratch folders for tests, all inside one folder per test process (<c>res2net-tests-PID-…</c> in the system's
/// temporary folder). It is deleted when the process exits; a test host that is killed instead leaves it, so each run
/// also deletes the folders of earlier processes that are no longer running. A test that fails half way, or a helper
/// that hands out folders without owning them (a download cache, a RES2NET_HOME), then leaves nothing behind.
/// </summary>
internal static class TempFolders
{
    private const string Prefix = "res2net-tests-";

    private static readonly Lazy<string> Root = new(() =>
    {
        DeleteThoseOfEndedProcesses();
        string root = Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    });

    /// <summary>A new empty folder whose name starts with <paramref name="prefix"/>, like <see cref="Directory.CreateTempSubdirectory"/>.</summary>
    public static DirectoryInfo Create(string prefix = "tmp-") =>
        Directory.CreateDirectory(Path.Combine(Root.Value, prefix + Guid.NewGuid().ToString("N")[..12]));

    private static void DeleteThoseOfEndedProcesses()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (string folder in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            string[] parts = Path.GetFileName(folder)[Prefix.Length..].Split('-');
            if (int.TryParse(parts[0], out int pid) && !Directory.Exists($"/proc/{pid}")) TryDelete(folder);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Something still holds a file (a child process being killed, a mount): the folder is only scratch.
        }
    }
}
