namespace Res2Net.Runtime.IO;

/// <summary>
/// The files a command reads, each examined once (full path and <see cref="FileIdentity"/>), so that many outputs
/// (a feature file per input and stage) are checked against many inputs without a stat per pair.
/// </summary>
public sealed class InputFiles
{
    private readonly (string Path, FileIdentity? Identity)[] _files;

    /// <summary>Examines <paramref name="paths"/> now; a missing file is remembered by its path.</summary>
    public InputFiles(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _files = paths.Select(p => Path.GetFullPath(p)).Select(p => (p, FileIdentity.Of(p))).ToArray();
    }

    /// <summary>The input that <paramref name="fullPath"/> (with its identity, null when missing) names, else null.</summary>
    internal string? Find(string fullPath, FileIdentity? identity)
    {
        foreach (var (path, inputIdentity) in _files)
        {
            if (FileIdentity.SameFile(fullPath, identity, path, inputIdentity)) return path;
        }
        return null;
    }
}
