namespace Res2Net.Runtime.Checkpoints;

/// <summary>Element type of a tensor as it is stored in a checkpoint, before conversion to float32.</summary>
public enum TensorDType
{
    Float32,
    Float16,
    BFloat16,
    Float64,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

/// <summary>Facts about <see cref="TensorDType"/> that the readers need.</summary>
public static class TensorDTypeInfo
{
    /// <summary>Bytes per element in the file's storage.</summary>
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.Float64 or TensorDType.Int64 => 8,
        TensorDType.Float32 or TensorDType.Int32 => 4,
        TensorDType.Float16 or TensorDType.BFloat16 or TensorDType.Int16 => 2,
        TensorDType.Int8 or TensorDType.UInt8 or TensorDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the types a learned weight may have; integer types only count batches and the like.</summary>
    public static bool IsFloatingPoint(this TensorDType dtype) =>
        dtype is TensorDType.Float32 or TensorDType.Float16 or TensorDType.BFloat16 or TensorDType.Float64;

    /// <summary>
    /// Maps the storage class name that <c>torch.save</c> writes into a persistent id (<c>torch.FloatStorage</c> ...)
    /// to its element type. Returns false for storages we do not convert (complex, quantized, float8).
    /// </summary>
    public static bool TryFromStorageName(string storageClass, out TensorDType dtype)
    {
        switch (storageClass)
        {
            case "FloatStorage": dtype = TensorDType.Float32; return true;
            case "HalfStorage": dtype = TensorDType.Float16; return true;
            case "BFloat16Storage": dtype = TensorDType.BFloat16; return true;
            case "DoubleStorage": dtype = TensorDType.Float64; return true;
            case "LongStorage": dtype = TensorDType.Int64; return true;
            case "IntStorage": dtype = TensorDType.Int32; return true;
            case "ShortStorage": dtype = TensorDType.Int16; return true;
            case "CharStorage": dtype = TensorDType.Int8; return true;
            case "ByteStorage": dtype = TensorDType.UInt8; return true;
            case "BoolStorage": dtype = TensorDType.Bool; return true;
            default: dtype = default; return false;
        }
    }
}
