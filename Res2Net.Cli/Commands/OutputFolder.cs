using Res2Net.Runtime.IO;

namespace Res2Net.Cli.Commands;

/// <summary>
/// A folder of pictures and arrays a command writes (<c>cam --out</c>, <c>predict --out-dir</c>, <c>test --out-dir</c>).
/// Every file is checked before the work (<see cref="OutputPath.Check(string, OutputKind, bool, InputFiles)"/>), written
/// beside its final name (<see cref="AtomicFileWriter"/>) and renamed only when the whole run has succeeded, so a
/// failure leaves no half set behind; folders this run created are removed again if they stay empty.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    private readonly List<string> _createdFolders = new();
    private readonly List<AtomicFileWriter> _files = new();

    private OutputFolder(string root) => Root = root;

    /// <summary>The folder's full path.</summary>
    public string Root { get; }

    /// <summary>
    /// Creates <paramref name="folder"/> (and the sub-folders <paramref name="files"/> name) if needed and checks every
    /// file the run will write there, given relative to the folder with '/' between parts.
    /// </summary>
    /// <param name="option">The option that named the folder, for messages.</param>
    public static OutputFolder Prepare(DirectoryInfo folder, string option, IEnumerable<(string Name, OutputKind Kind)> files, bool force, InputFiles inputs)
    {
        if (File.Exists(folder.FullName)) throw new CliException($"{option} {folder.FullName} is a file; give a folder (it is created if needed).");
        var output = new OutputFolder(Path.GetFullPath(folder.FullName));
        try
        {
            output.CreateFolder(output.Root, option);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, kind) in files)
            {
                string path = output.PathOf(name);
                if (!seen.Add(path)) throw new CliException($"two outputs would both be written to {path}; rename an input, or run them separately.");
                output.CreateFolder(Path.GetDirectoryName(path)!, option);
                OutputPath.Check(path, kind, force, inputs);
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>The full path of <paramref name="name"/> (relative, '/' between parts) in the folder; never outside it.</summary>
    public string PathOf(string name)
    {
        string path = Path.GetFullPath(Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(Root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new CliException($"{name} would be written outside {Root}; an output name may not climb out of its folder.");
        return path;
    }

    /// <summary>Writes one file through <paramref name="write"/>; it is closed at once and renamed into place by <see cref="Commit"/>.</summary>
    public void Write(string name, Action<Stream> write)
    {
        var file = AtomicFileWriter.Create(PathOf(name));
        _files.Add(file);
        write(file.Stream);
        file.Complete(); // closed now: thousands of pictures must not hold thousands of open files
    }

    /// <summary>Renames every file written into place.</summary>
    public void Commit()
    {
        foreach (var file in _files) file.Commit();
    }

    /// <summary>Deletes what was not committed, and the folders this run created that are still empty.</summary>
    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
        _files.Clear();
        for (int i = _createdFolders.Count - 1; i >= 0; i--)
        {
            try
            {
                if (!Directory.EnumerateFileSystemEntries(_createdFolders[i]).Any()) Directory.Delete(_createdFolders[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        _createdFolders.Clear();
    }

    private void CreateFolder(string folder, string option)
    {
        if (Directory.Exists(folder)) return;
        // Parents first, so that each folder this run makes is recorded and can be removed again.
        if (Path.GetDirectoryName(folder) is { } parent && parent != folder) CreateFolder(parent, option);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputFileException(folder, $"cannot create the {option} folder: {e.Message}", e);
        }
        _createdFolders.Add(folder);
    }
}
