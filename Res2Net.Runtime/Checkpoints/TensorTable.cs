namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// One tensor of an opened checkpoint: validated against the file, its values not yet read. <c>Read</c> reads and
/// converts the values; it throws <see cref="CheckpointException"/> (or an I/O exception the caller wraps).
/// </summary>
internal sealed record TableEntry(string Name, int[] Shape, TensorDType DType, Func<float[]> Read);

/// <summary>
/// What each format's reader produces when it opens a file: the tensors of the state dict in file order, every
/// offset and size already checked against the file, plus what must stay open while they are read.
/// </summary>
internal sealed class TensorTable(CheckpointFormat format, string wrapper, IReadOnlyList<TableEntry> entries,
    IReadOnlyDictionary<string, string> metadata, IDisposable? resources) : IDisposable
{
    public CheckpointFormat Format { get; } = format;

    public string Wrapper { get; } = wrapper;

    public IReadOnlyList<TableEntry> Entries { get; } = entries;

    /// <summary>safetensors' <c>__metadata__</c>; empty for the torch formats (whose <c>meta</c> is opaque Python data).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    public void Dispose() => resources?.Dispose();
}
