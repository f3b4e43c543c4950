using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Copies a validated view out of raw storage bytes into a dense row-major float32 array. The views were checked
/// against the storage's declared size when the pickle was read, and the caller checks the bytes really exist,
/// so the walk here never leaves <c>storage</c>.
/// </summary>
internal static class TensorMaterializer
{
    /// <summary>Converts <paramref name="view"/>; <paramref name="storage"/> holds little-endian elements from element 0.</summary>
    public static float[] Gather(ReadOnlySpan<byte> storage, TensorRef view)
    {
        var dtype = view.Storage.DType;
        int size = dtype.ElementSize();
        if (view.Extent * size > storage.Length)
            throw new InvalidOperationException("storage shorter than a validated view");
        var result = new float[view.ElementCount];
        if (result.Length == 0) return result;

        int rank = view.Shape.Length;
        if (IsContiguous(view))
        {
            Convert(storage.Slice((int)(view.Offset * size), result.Length * size), dtype, result);
            return result;
        }

        // Walk every index except the innermost with an odometer; each innermost row is one strided run.
        int rowLength = view.Shape[rank - 1];
        long innerStride = view.Stride[rank - 1];
        var index = new int[rank - 1];
        long rowStart = view.Offset;
        for (int done = 0; done < result.Length; done += rowLength)
        {
            var row = result.AsSpan(done, rowLength);
            if (innerStride == 1)
                Convert(storage.Slice((int)(rowStart * size), rowLength * size), dtype, row);
            else
                for (int i = 0; i < rowLength; i++)
                    row[i] = ConvertOne(storage.Slice((int)((rowStart + i * innerStride) * size), size), dtype);

            for (int d = rank - 2; d >= 0; d--)
            {
                rowStart += view.Stride[d];
                if (++index[d] < view.Shape[d]) break;
                rowStart -= view.Stride[d] * index[d];
                index[d] = 0;
            }
        }
        return result;
    }

    public static bool IsContiguous(TensorRef view)
    {
        long expected = 1;
        for (int d = view.Shape.Length - 1; d >= 0; d--)
        {
            // A dimension of size 1 may carry any stride: it is never stepped over.
            if (view.Shape[d] != 1 && view.Stride[d] != expected) return false;
            expected *= view.Shape[d];
        }
        return true;
    }

    /// <summary>Converts consecutive elements; the span holds exactly <c>destination.Length</c> of them.</summary>
    public static void Convert(ReadOnlySpan<byte> source, TensorDType dtype, Span<float> destination)
    {
        int n = destination.Length;
        switch (dtype)
        {
            case TensorDType.Float32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(source[..(n * 4)]).CopyTo(destination);
                return;
            case TensorDType.Float32:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                return;
            case TensorDType.Float16:
                for (int i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                return;
            case TensorDType.BFloat16:
                for (int i = 0; i < n; i++) destination[i] = BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]));
                return;
            case TensorDType.Float64:
                for (int i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]);
                return;
            case TensorDType.Int64:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(source[(i * 8)..]);
                return;
            case TensorDType.Int32:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]);
                return;
            case TensorDType.Int16:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(i * 2)..]);
                return;
            case TensorDType.Int8:
                for (int i = 0; i < n; i++) destination[i] = (sbyte)source[i];
                return;
            case TensorDType.UInt8:
                for (int i = 0; i < n; i++) destination[i] = source[i];
                return;
            case TensorDType.Bool:
                for (int i = 0; i < n; i++) destination[i] = source[i] != 0 ? 1f : 0f;
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
    }

    private static float ConvertOne(ReadOnlySpan<byte> element, TensorDType dtype)
    {
        Span<float> one = stackalloc float[1];
        Convert(element, dtype, one);
        return one[0];
    }

    /// <summary>bfloat16 is the upper half of a float32, so widening is exact.</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Reverses each element's bytes in place, for storages written on a big-endian machine.</summary>
    public static void SwapToLittleEndian(Span<byte> data, int elementSize)
    {
        if (elementSize == 1) return;
        for (int i = 0; i + elementSize <= data.Length; i += elementSize)
            data.Slice(i, elementSize).Reverse();
    }
}
