namespace Res2Net.Runtime.Checkpoints;

// What torch's persistent ids and _rebuild_tensor calls become: references into the archive's storages,
// read only after the whole pickle has been checked.

/// <summary>A storage named by a persistent id: which bytes of the archive hold it, and as which element type.</summary>
internal sealed class StorageRef(TensorDType dtype, string key, long elementCount, string location)
{
    public TensorDType DType { get; } = dtype;

    public string Key { get; } = key;

    public long ElementCount { get; } = elementCount;

    public string Location { get; } = location;
}

/// <summary>A tensor view over a storage, validated to lie inside the storage's declared element count.</summary>
internal sealed class TensorRef(StorageRef storage, long offset, int[] shape, long[] stride, long elementCount, long extent)
{
    public StorageRef Storage { get; } = storage;

    public long Offset { get; } = offset;

    public int[] Shape { get; } = shape;

    public long[] Stride { get; } = stride;

    public long ElementCount { get; } = elementCount;

    /// <summary>Elements of the storage the view reaches: offset + last index + 1 (0 for an empty tensor).</summary>
    public long Extent { get; } = extent;
}
