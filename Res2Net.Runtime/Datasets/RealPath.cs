namespace Res2Net.Runtime.Datasets;

/// <summary>
/// A path with every symbolic link in it resolved, as POSIX <c>realpath</c> gives it. Two routes to one folder then
/// compare equal, which <c>FileSystemInfo.ResolveLinkTarget</c> alone does not ensure: it resolves only the last
/// component, against a parent that may itself run through links.
/// </summary>
internal static class RealPath
{
    // The kernel's own limit on links followed in one lookup (Linux SYMLOOP_MAX / ELOOP).
    private const int MaxLinks = 40;

    private static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <exception cref="IOException">A link cannot be read, or more than 40 links are met (a cycle).</exception>
    public static string Of(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        var pending = new Stack<string>();
        Push(pending, full[current.Length..]);
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                // current has no links left in it, so its textual parent is its real parent.
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target == null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"more than {MaxLinks} symbolic links met resolving {path}");
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }
            Push(pending, target);
        }
        return current;
    }

    private static void Push(Stack<string> pending, string relative)
    {
        string[] parts = relative.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
