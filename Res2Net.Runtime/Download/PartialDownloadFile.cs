using System.Security.Cryptography;

namespace Res2Net.Runtime.Download;

/// <summary>
/// The temporary file a download is written to: <c>&lt;target&gt;.&lt;random&gt;.partial</c> in the target's folder,
/// created exclusively (<see cref="FileMode.CreateNew"/>, i.e. <c>O_CREAT|O_EXCL</c>, which also refuses a symlink
/// planted under the name instead of writing through it), renamed over the target by <see cref="Commit"/>, deleted on
/// <see cref="Dispose"/> otherwise. Kept to the download on purpose; a shared atomic writer may replace it later.
/// </summary>
internal sealed class PartialDownloadFile : IDisposable
{
    /// <summary>Names tried before giving up; a clash of 64 random bits means something else is going on.</summary>
    private const int Tries = 4;

    private readonly string _target;
    private bool _committed;

    private PartialDownloadFile(string target, string path, FileStream stream)
    {
        _target = target;
        Path = path;
        Stream = stream;
    }

    /// <summary>The temporary file's full path.</summary>
    public string Path { get; }

    /// <summary>Open for writing, at position 0.</summary>
    public FileStream Stream { get; }

    /// <summary>Creates a fresh temporary file beside <paramref name="target"/> (a full path).</summary>
    /// <param name="target">Where the file goes when complete.</param>
    /// <param name="randomName">The random part of the name; a test may fix it. Default 16 random hex digits.</param>
    /// <exception cref="IOException">Every name tried was taken, or the folder cannot be written.</exception>
    public static PartialDownloadFile Create(string target, Func<string>? randomName = null)
    {
        randomName ??= () => RandomNumberGenerator.GetHexString(16, lowercase: true);
        for (int attempt = 1; ; attempt++)
        {
            string path = $"{target}.{randomName()}.partial";
            try
            {
                return new PartialDownloadFile(target, path, new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
            }
            catch (IOException) when (attempt < Tries && Exists(path))
            {
                // Taken (by a file, or a symlink, dangling or not): never touch it, draw another name.
            }
        }
    }

    /// <summary>Flushes and closes the file, then renames it over the target (atomic on one file system).</summary>
    public void Commit()
    {
        Stream.Dispose();
        File.Move(Path, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the file and, unless committed, deletes it.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (_committed) return;
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Whether anything, a dangling symlink included, is at <paramref name="path"/>.</summary>
    private static bool Exists(string path) => new FileInfo(path) is { Exists: true } or { LinkTarget: not null };
}
