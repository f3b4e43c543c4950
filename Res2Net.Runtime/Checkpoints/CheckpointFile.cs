using Res2Net.Runtime.Binding;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// An open checkpoint whose tensors are indexed but not yet read: every offset, size, dtype and shape has been
/// checked against the file, and each tensor's values are read from the file only when asked for, one at a time.
/// This is how a network is loaded without holding a second copy of its weights (see <see cref="CheckpointLoader"/>)
/// and how <c>res2net convert</c> rewrites a file of any size.
/// </summary>
/// <remarks>The format is recognised by content: zip (<c>PK</c>), legacy torch pickle (<c>0x80</c>), or safetensors
/// (a header size that fits the file, then <c>{</c>). Not thread-safe: tensors share one file position.</remarks>
public sealed class CheckpointFile : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly TensorTable _table;
    private bool _disposed;

    private CheckpointFile(Stream stream, bool ownsStream, TensorTable table, string sourcePath)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _table = table;
        SourcePath = sourcePath;
        var tensors = table.Entries.Select(e => new CheckpointTensor(e.Name, e.Shape, e.DType, () => ReadEntry(e))).ToList();
        StateDict = new StateDict(tensors, sourcePath, table.Wrapper, table.Format);
    }

    /// <summary>Opens and indexes the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, unreadable, or not a checkpoint we understand.</exception>
    public static CheckpointFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CheckpointException(path, $"cannot open checkpoint: {e.Message}", e);
        }
        return Open(stream, path, leaveOpen: false);
    }

    /// <summary>
    /// Indexes the checkpoint in <paramref name="stream"/> from its current position; <paramref name="displayName"/>
    /// names it in messages. A stream that cannot seek is copied into memory first.
    /// </summary>
    public static CheckpointFile Open(Stream stream, string displayName, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        bool owns = !leaveOpen;
        try
        {
            if (!stream.CanRead) throw new CheckpointException(displayName, "stream is not readable");
            if (!stream.CanSeek)
            {
                // Every format needs random access (zip central directory, storage offsets), so buffer what the stream holds.
                byte[] bytes = CheckpointReader.Guard(displayName, () => IO.BoundedRead.ReadToEnd(stream, out bool tooLarge) switch
                {
                    _ when tooLarge => throw new CheckpointException(displayName, "stream is larger than the biggest array; pass a seekable stream"),
                    var all => all,
                });
                var copy = new MemoryStream(bytes, writable: false);
                if (owns) stream.Dispose();
                stream = copy;
                owns = true;
            }
            var table = CheckpointReader.Guard(displayName, () => CheckpointReader.OpenTable(stream, displayName));
            return new CheckpointFile(stream, owns, table, displayName);
        }
        catch
        {
            if (owns) stream.Dispose();
            throw;
        }
    }

    /// <summary>The path (or display name) it was opened from.</summary>
    public string SourcePath { get; }

    /// <summary>The format recognised from the content.</summary>
    public CheckpointFormat Format => _table.Format;

    /// <summary>Where the state dict sat: <c>state_dict</c>, <c>model</c> or <c>none</c> (see <see cref="StateDict"/>'s constants).</summary>
    public string Wrapper => _table.Wrapper;

    /// <summary>The key layout of the tensor names.</summary>
    public KeyLayoutInfo Layout => StateDict.Layout;

    /// <summary>safetensors' <c>__metadata__</c> (string to string); empty for torch files.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _table.Metadata;

    /// <summary>
    /// The state dict with deferred tensors: each <see cref="CheckpointTensor.Data"/> access reads that tensor from the
    /// file (valid until this object is disposed). Pass it to <c>CompiledNetwork.Load</c> to bind tensor by tensor.
    /// </summary>
    public StateDict StateDict { get; }

    /// <summary>One line for messages: format, wrapper, layout and tensor count.</summary>
    public string Summary => StateDict.Summary;

    /// <summary>Reads every tensor into memory.</summary>
    public StateDict ReadAll() => StateDict.Materialize();

    private float[] ReadEntry(TableEntry entry)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return CheckpointReader.Guard(SourcePath, () =>
        {
            try
            {
                return entry.Read();
            }
            catch (CheckpointException)
            {
                throw;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or NotSupportedException)
            {
                throw new CheckpointException(SourcePath, $"tensor '{entry.Name}' cannot be read: {e.Message}", e);
            }
        });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _table.Dispose();
        if (_ownsStream) _stream.Dispose();
    }
}
