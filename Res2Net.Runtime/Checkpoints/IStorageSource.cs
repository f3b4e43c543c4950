namespace Res2Net.Runtime.Checkpoints;

/// <summary>Where a checkpoint format keeps the bytes of its storages (zip entries, or the tail of a legacy file).</summary>
internal interface IStorageSource
{
    /// <summary>
    /// Bytes the file says it holds for <paramref name="key"/>; throws a <see cref="CheckpointException"/> when the
    /// storage is missing altogether.
    /// </summary>
    long DeclaredBytes(string key);

    /// <summary>
    /// Reads the first <paramref name="byteCount"/> (at most <see cref="DeclaredBytes"/>) bytes of the storage as
    /// little-endian elements of <paramref name="elementSize"/> bytes; throws a <see cref="CheckpointException"/>
    /// when the data turns out shorter than declared.
    /// </summary>
    byte[] Load(string key, long byteCount, int elementSize);

    /// <summary>
    /// True when the first <paramref name="byteCount"/> bytes of the storage can be copied straight into a caller's
    /// buffer: no byte swapping, and the bytes are known to exist (so allocating the buffer first is safe).
    /// </summary>
    bool CanReadDirectly(string key, long byteCount);

    /// <summary>Fills <paramref name="destination"/> with the first bytes of the storage; only after <see cref="CanReadDirectly"/>.</summary>
    void ReadInto(string key, Span<byte> destination);
}
