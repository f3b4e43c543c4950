namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// One tensor of a state dict, copied out of the checkpoint into a row-major contiguous float32 array.
/// The copy is deliberate: views in the file may be strided or share storage, and the kernels want dense data.
/// </summary>
public sealed class CheckpointTensor
{
    /// <summary>Wraps already-converted data; <paramref name="data"/> must hold exactly the product of <paramref name="shape"/>.</summary>
    public CheckpointTensor(string name, int[] shape, TensorDType sourceDType, float[] data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"tensor '{name}': negative dimension {dim} in shape [{string.Join(", ", shape)}]", nameof(shape));
            count *= dim;
            if (count > Array.MaxLength)
                throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] is too large", nameof(shape));
        }
        if (count != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] needs {count} values but {data.Length} were given", nameof(data));
        Name = name;
        Shape = shape;
        SourceDType = sourceDType;
        Data = data;
    }

    /// <summary>The state-dict key, e.g. <c>backbone.conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The element type the file stored, before conversion.</summary>
    public TensorDType SourceDType { get; }

    /// <summary>The values, converted to float32, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Data.LongLength;

    /// <summary>The shape written like PyTorch prints it, for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name} {SourceDType} {ShapeText}";
}
