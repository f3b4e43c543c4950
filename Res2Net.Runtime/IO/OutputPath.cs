namespace Res2Net.Runtime.IO;

/// <summary>
/// The checks a command makes on each output file before it starts work, so that a mistake costs nothing and never
/// destroys a file: the folder exists and takes a new file, the path is not a folder, not a device or pipe, not one of
/// the command's inputs (by device and inode, so links and <c>./x</c> count), and, when something is already there, it
/// is a file of the same kind (<see cref="OutputKind"/>) or the user said <c>--force</c>.
/// </summary>
public static class OutputPath
{
    /// <summary>How much of an existing file is read to recognise its kind.</summary>
    public const int HeadBytes = 4096;

    /// <summary>Checks that <paramref name="path"/> may be written as <paramref name="kind"/>; returns its full path.</summary>
    /// <param name="path">The output file.</param>
    /// <param name="kind">What will be written there.</param>
    /// <param name="force">Replace an existing file of another kind (never an input, a folder or a device).</param>
    /// <param name="inputs">Every file the command reads.</param>
    /// <exception cref="OutputFileException">The message names the file, what is wrong and what to do.</exception>
    public static string Check(string path, OutputKind kind, bool force, IEnumerable<string> inputs) =>
        Check(path, kind, force, new InputFiles(inputs));

    /// <summary>As above, against inputs examined once for several outputs.</summary>
    public static string Check(string path, OutputKind kind, bool force, InputFiles inputs)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(inputs);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full) || Path.EndsInDirectorySeparator(path))
            throw new OutputFileException(full, "is a folder; give a file name");
        string folder = Path.GetDirectoryName(full) ?? throw new OutputFileException(full, "is not a file name");
        if (!Directory.Exists(folder))
            throw new OutputFileException(full, $"cannot write: folder {folder} does not exist");

        var identity = FileIdentity.Of(full);
        if (inputs.Find(full, identity) is { } input)
        {
            string through = string.Equals(input, full, StringComparison.Ordinal) ? "" : $" ({input})";
            throw new OutputFileException(full, $"is also an input of this command{through}; write the output elsewhere");
        }

        var info = new FileInfo(full);
        if (info.LinkTarget != null)
        {
            // rename(2) replaces the link itself, not what it points to; a link is still the user's, so ask.
            if (!force)
                throw new OutputFileException(full, $"is a symbolic link (to {info.LinkTarget}); it was left alone. Pass --force to replace the link with the new file (what it points to is kept)");
        }
        else if (identity is { Kind: FileKind.Other })
        {
            throw new OutputFileException(full, "is not a regular file (a device, pipe or socket); give a file name");
        }
        else if (info.Exists && !force && !IsKind(info, kind))
        {
            throw new OutputFileException(full, $"already exists and is not {kind.Description}; it was left alone. Pass --force to replace it");
        }

        using (AtomicFileWriter.Create(full))
        {
            // Proves the folder takes a new file (permissions, read-only mount, no inodes left); deleted again at once.
        }
        return full;
    }

    /// <summary>True when two paths name the same file (same device and inode; see <see cref="FileIdentity"/>), e.g. two outputs of one command.</summary>
    public static bool SameFile(string a, string b) => FileIdentity.SameFile(a, b);

    private static bool IsKind(FileInfo file, OutputKind kind)
    {
        try
        {
            using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            var head = new byte[(int)Math.Min(HeadBytes, stream.Length)];
            stream.ReadExactly(head);
            return kind.Recognizes(head, stream.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // unreadable: not known to be ours
        }
    }
}
