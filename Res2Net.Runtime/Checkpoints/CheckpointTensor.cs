namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// One tensor of a state dict as row-major contiguous float32 values. The copy is deliberate: views in the file
/// may be strided or share storage, and the kernels want dense data.
/// </summary>
/// <remarks>
/// A tensor is either materialized (<see cref="Data"/> is an array held by the tensor) or deferred: a tensor of an
/// open <see cref="CheckpointFile"/>, whose <see cref="Data"/> reads the values from the file on each access and keeps
/// nothing, so a network can be loaded one tensor at a time (<see cref="IsDeferred"/>).
/// </remarks>
public sealed class CheckpointTensor
{
    private readonly float[]? _data;
    private readonly Func<float[]>? _read;

    /// <summary>Wraps already-converted data; <paramref name="data"/> must hold exactly the product of <paramref name="shape"/>.</summary>
    public CheckpointTensor(string name, int[] shape, TensorDType sourceDType, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ElementCount = CheckShape(name, shape);
        if (ElementCount != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] needs {ElementCount} values but {data.Length} were given", nameof(data));
        Name = name;
        Shape = shape;
        SourceDType = sourceDType;
        _data = data;
    }

    /// <summary>A deferred tensor: <paramref name="read"/> produces the values (exactly the product of the shape) on each access.</summary>
    internal CheckpointTensor(string name, int[] shape, TensorDType sourceDType, Func<float[]> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        ElementCount = CheckShape(name, shape);
        Name = name;
        Shape = shape;
        SourceDType = sourceDType;
        _read = read;
    }

    private static long CheckShape(string name, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"tensor '{name}': negative dimension {dim} in shape [{string.Join(", ", shape)}]", nameof(shape));
            count *= dim;
            if (count > Array.MaxLength)
                throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] is too large", nameof(shape));
        }
        return count;
    }

    /// <summary>The state-dict key, e.g. <c>backbone.conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The element type the file stored, before conversion.</summary>
    public TensorDType SourceDType { get; }

    /// <summary>
    /// The values, converted to float32, row-major. For a deferred tensor every access reads the file again
    /// (and throws <see cref="CheckpointException"/> if the file turns out unreadable, or <see cref="ObjectDisposedException"/> once it is closed).
    /// </summary>
    public float[] Data
    {
        get
        {
            if (_data != null) return _data;
            var values = _read!();
            if (values.LongLength != ElementCount)
                throw new InvalidOperationException($"tensor '{Name}': reader produced {values.Length} values for shape {ShapeText}");
            return values;
        }
    }

    /// <summary>True when <see cref="Data"/> is read from an open checkpoint on each access instead of being held.</summary>
    public bool IsDeferred => _data == null;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>The shape written like PyTorch prints it, for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>This tensor with its values held in memory (itself when it already is).</summary>
    public CheckpointTensor Materialize() => _data != null ? this : new CheckpointTensor(Name, Shape, SourceDType, Data);

    /// <summary>The same values (deferred or not) under another key.</summary>
    public CheckpointTensor WithName(string name) =>
        _data != null ? new CheckpointTensor(name, Shape, SourceDType, _data) : new CheckpointTensor(name, Shape, SourceDType, _read!);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {SourceDType} {ShapeText}";
}
