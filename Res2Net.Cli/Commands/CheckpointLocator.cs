using Res2Net.Runtime.Networks;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Finds the checkpoint for a network: the one the user named, else the file in the cache
/// (<c>$RES2NET_HOME</c>, default <c>~/.cache/res2net</c>) under the name of its official URL.
/// </summary>
internal static class CheckpointLocator
{
    public static string CacheDirectory
    {
        get
        {
            string? home = Environment.GetEnvironmentVariable("RES2NET_HOME");
            if (!string.IsNullOrEmpty(home)) return Path.Combine(home, "checkpoints");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "res2net", "checkpoints");
        }
    }

    public static string Resolve(NetworkInfo info, FileInfo? explicitPath)
    {
        if (explicitPath != null)
        {
            if (!explicitPath.Exists) throw new CliException($"checkpoint {explicitPath.FullName} does not exist.");
            return explicitPath.FullName;
        }
        if (info.CheckpointUrl == null)
        {
            throw new CliException($"{info.Name} has no pretrained checkpoint in its spec ({info.SpecFile}); pass one with --checkpoint FILE.");
        }
        string fileName = Path.GetFileName(new Uri(info.CheckpointUrl).LocalPath);
        string cached = Path.Combine(CacheDirectory, fileName);
        if (File.Exists(cached)) return cached;
        throw new CliException(
            $"no checkpoint for {info.Name}. Automatic download is not built yet; download\n" +
            $"  {info.CheckpointUrl}\n" +
            $"and either pass it with --checkpoint FILE, or save it as\n" +
            $"  {cached}");
    }
}
