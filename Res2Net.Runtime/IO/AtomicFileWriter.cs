using System.Security.Cryptography;

namespace Res2Net.Runtime.IO;

/// <summary>
/// Writes a file so that its path only ever holds the old file or the complete new one. The bytes go to a temporary
/// file beside the target, created exclusively under a random name (<c>NAME.XXXXXXXX.partial</c>; <c>CreateNew</c> is
/// O_CREAT|O_EXCL, which also refuses a symbolic link planted there), flushed to disk, then renamed over the target
/// (<see cref="File.Move(string, string, bool)"/> with overwrite is rename(2): atomic within a folder). Dispose without
/// <see cref="Commit"/> deletes the temporary file; so do SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT, which end the
/// process without running finally blocks (<see cref="InterruptSignals"/>; inside its cancelling scope the owner's
/// Dispose does it). Write errors are <see cref="OutputFileException"/>s naming the target, a full disk as "no space left
/// on the device". The CLI's writers and the checkpoint downloader all write through it.
/// </summary>
/// <example>
/// <code>
/// using var output = AtomicFileWriter.Create(path);
/// Write(output.Stream, ...);
/// output.Commit();
/// </code>
/// </example>
public sealed class AtomicFileWriter : IDisposable
{
    private const int BufferBytes = 1 << 16;
    private const int NameAttempts = 16;

    /// <summary>Test seam: wraps each new file's stream (e.g. to fail like a full disk); flows with the async context only.</summary>
    private static readonly AsyncLocal<Func<Stream, Stream>?> StreamWrapper = new();

    private readonly FileStream _file;
    private bool _completed, _committed, _disposed;

    private AtomicFileWriter(string path, string temporaryPath, FileStream file, Stream stream)
    {
        Path = path;
        TemporaryPath = temporaryPath;
        _file = file;
        Stream = new GuardedStream(stream, path);
    }

    /// <summary>The file being written (full path); untouched until <see cref="Commit"/>.</summary>
    public string Path { get; }

    /// <summary>Where the bytes go until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>Write here. Failures are <see cref="OutputFileException"/>s naming <see cref="Path"/>.</summary>
    public Stream Stream { get; }

    /// <summary>
    /// Creates the temporary file beside <paramref name="path"/>, with the permissions of the file it will replace
    /// (a private file stays private).
    /// </summary>
    /// <exception cref="OutputFileException">The folder is missing or not writable, or the disk is full.</exception>
    public static AtomicFileWriter Create(string path) => Create(path, RandomSuffix);

    /// <summary>As <see cref="Create(string)"/>, with the random part of the temporary name drawn by <paramref name="randomName"/> (tests fix it).</summary>
    internal static AtomicFileWriter Create(string path, Func<string> randomName)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(full) ?? throw new OutputFileException(full, "is not a file name");
        string name = System.IO.Path.GetFileName(full);
        if (name.Length == 0) throw new OutputFileException(full, "is a folder name; give a file name");
        for (int attempt = 1; ; attempt++)
        {
            string temporary = System.IO.Path.Combine(folder, $"{name}.{randomName()}.partial");
            FileStream file;
            try
            {
                file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes);
            }
            catch (IOException e) when (File.Exists(temporary) || new FileInfo(temporary).LinkTarget != null)
            {
                if (attempt < NameAttempts) continue; // someone else's file (or link) under that name: never touch it
                throw OutputFileException.CannotWrite(full, e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputFileException.CannotWrite(full, e);
            }
            InterruptSignals.Track(temporary);
            try
            {
                KeepPermissions(full, temporary);
                var stream = StreamWrapper.Value?.Invoke(file) ?? file;
                return new AtomicFileWriter(full, temporary, file, stream);
            }
            catch
            {
                Delete(temporary, file);
                throw;
            }
        }
    }

    /// <summary>
    /// Flushes everything to disk and closes the temporary file, without renaming it yet (for sets of files renamed
    /// together). <see cref="Commit"/> calls it.
    /// </summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) return;
        try
        {
            Stream.Flush();
            _file.Flush(flushToDisk: true); // before the rename, so a crash cannot leave an empty file under the name
            _file.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputFileException.CannotWrite(Path, e);
        }
        _completed = true;
    }

    /// <summary>Completes the file and renames it over <see cref="Path"/>.</summary>
    public void Commit()
    {
        Complete();
        if (_committed) return;
        try
        {
            File.Move(TemporaryPath, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputFileException.CannotWrite(Path, e);
        }
        InterruptSignals.Untrack(TemporaryPath);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless committed; the target is as it was.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_committed) Delete(TemporaryPath, _file);
    }

    /// <summary>Runs <paramref name="action"/> with every new file's stream passed through <paramref name="wrap"/> (tests only).</summary>
    internal static void WithStreamWrapper(Func<Stream, Stream> wrap, Action action)
    {
        var previous = StreamWrapper.Value;
        StreamWrapper.Value = wrap;
        try
        {
            action();
        }
        finally
        {
            StreamWrapper.Value = previous;
        }
    }

    private static void Delete(string temporary, FileStream file)
    {
        try
        {
            file.Dispose(); // may flush buffered bytes and fail again on a full disk: the file goes anyway
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        try
        {
            File.Delete(temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        InterruptSignals.Untrack(temporary);
    }

    private static void KeepPermissions(string target, string temporary)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(target)) return;
        try
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(target));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to change (another owner): the new file keeps the default permissions.
        }
    }

    private static string RandomSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Passes writes through, turning I/O failures into <see cref="OutputFileException"/>s that name the target.</summary>
    private sealed class GuardedStream(Stream inner, string path) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => Guard(() => inner.Length);

        public override long Position
        {
            get => Guard(() => inner.Position);
            set => Guard(() => inner.Position = value);
        }

        public override void Flush() => Guard(() => { inner.Flush(); return 0; });
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => Guard(() => inner.Seek(offset, origin));
        public override void SetLength(long value) => Guard(() => { inner.SetLength(value); return 0; });
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void WriteByte(byte value) => Write([value]);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                inner.Write(buffer);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputFileException.CannotWrite(path, e);
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputFileException.CannotWrite(path, e);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputFileException.CannotWrite(path, e);
            }
        }

        private T Guard<T>(Func<T> operation)
        {
            try
            {
                return operation();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw OutputFileException.CannotWrite(path, e);
            }
        }
    }
}
