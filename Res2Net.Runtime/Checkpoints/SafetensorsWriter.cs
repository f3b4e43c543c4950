using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Writes tensors as safetensors, the format that holds nothing but data: an 8-byte little-endian header size, a
/// compact JSON header (<c>__metadata__</c> first, then the tensors in the order given, padded with spaces to a
/// multiple of 8 bytes as the reference writer does), then the tensors' bytes back to back.
/// Tensors are read one at a time, so a deferred state dict (<see cref="CheckpointFile.StateDict"/>) is converted
/// without holding more than one tensor in memory.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// The dtype a tensor is written in by default: its dtype in the source file whenever float32 holds those
    /// values exactly (F32, F16, BF16 and the integer types round-trip bit for bit); float64 is written as F32 because
    /// the values were already rounded to float32 when read.
    /// </summary>
    public static TensorDType DefaultStoredDType(TensorDType source) => source == TensorDType.Float64 ? TensorDType.Float32 : source;

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="output"/>; returns the bytes written.</summary>
    /// <param name="output">Where the file goes; written sequentially, never seeked.</param>
    /// <param name="tensors">The tensors, in the order their bytes are laid out; deferred ones are read one at a time.</param>
    /// <param name="metadata">The <c>__metadata__</c> strings; omitted from the header when null or empty.</param>
    /// <param name="storedDType">The dtype to store each tensor in; default <see cref="DefaultStoredDType"/> of its source dtype.</param>
    /// <exception cref="ArgumentException">Duplicate names, a reserved name, or values the chosen integer dtype cannot hold.</exception>
    public static long Write(Stream output, IEnumerable<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        Func<CheckpointTensor, TensorDType>? storedDType = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var dtypes = list.Select(t => storedDType?.Invoke(t) ?? DefaultStoredDType(t.SourceDType)).ToArray();
        byte[] header = Header(list, dtypes, metadata);

        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
        output.Write(size);
        output.Write(header);
        long written = 8 + header.Length;
        for (int i = 0; i < list.Count; i++)
        {
            var data = list[i].Data; // a deferred tensor is read here, once
            written += WriteValues(output, data, dtypes[i], list[i].Name);
        }
        output.Flush();
        return written;
    }

    /// <summary>
    /// Writes to <paramref name="path"/> through <see cref="AtomicFileWriter"/>, so a failure never leaves a truncated
    /// file under the final name nor touches the file that was there.
    /// </summary>
    /// <exception cref="OutputFileException">The file cannot be written (full disk, missing folder...); nothing changed.</exception>
    public static long Write(string path, IEnumerable<CheckpointTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        Func<CheckpointTensor, TensorDType>? storedDType = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var output = AtomicFileWriter.Create(path);
        long bytes = Write(output.Stream, tensors, metadata, storedDType);
        output.Commit();
        return bytes;
    }

    private static byte[] Header(List<CheckpointTensor> tensors, TensorDType[] dtypes, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder("{");
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            json.Append(Quote(SafetensorsReader.MetadataKey)).Append(":{");
            bool firstItem = true;
            foreach (var (key, value) in metadata)
            {
                if (!firstItem) json.Append(',');
                json.Append(Quote(key)).Append(':').Append(Quote(value));
                firstItem = false;
            }
            json.Append('}');
            first = false;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Name == SafetensorsReader.MetadataKey)
                throw new ArgumentException($"a tensor cannot be called '{SafetensorsReader.MetadataKey}' in safetensors", nameof(tensors));
            if (!names.Add(t.Name))
                throw new ArgumentException($"tensor name '{t.Name}' appears twice", nameof(tensors));
            long bytes = t.ElementCount * dtypes[i].ElementSize();
            if (!first) json.Append(',');
            json.Append(Quote(t.Name)).Append(":{\"dtype\":\"").Append(SafetensorsReader.DTypeName(dtypes[i])).Append("\",\"shape\":[")
                .Append(string.Join(",", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))))
                .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + bytes).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += bytes;
            first = false;
        }
        json.Append('}');
        int length = Encoding.UTF8.GetByteCount(json.ToString());
        json.Append(' ', (8 - length % 8) % 8);
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    /// <summary>JSON string as serde_json (and Python's json.dumps(ensure_ascii=False)) writes it.</summary>
    private static string Quote(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ': sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static long WriteValues(Stream output, float[] data, TensorDType dtype, string name)
    {
        if (dtype == TensorDType.Float32 && BitConverter.IsLittleEndian)
        {
            output.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return 4L * data.Length;
        }
        int size = dtype.ElementSize();
        const int Chunk = 1 << 16;
        var buffer = new byte[Math.Min(data.Length, Chunk) * size];
        for (int start = 0; start < data.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, data.Length - start);
            var span = buffer.AsSpan(0, n * size);
            for (int i = 0; i < n; i++) Encode(data[start + i], dtype, span.Slice(i * size, size), name);
            output.Write(span);
        }
        return (long)data.Length * size;
    }

    private static void Encode(float value, TensorDType dtype, Span<byte> destination, string name)
    {
        switch (dtype)
        {
            case TensorDType.Float32: BinaryPrimitives.WriteSingleLittleEndian(destination, value); return;
            case TensorDType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(destination, value); return;
            case TensorDType.Float16: BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value); return;
            case TensorDType.BFloat16: BinaryPrimitives.WriteUInt16LittleEndian(destination, SingleToBFloat16(value)); return;
            case TensorDType.Int64: BinaryPrimitives.WriteInt64LittleEndian(destination, (long)Integral(value, -9.2233720368547758E18, 9.2233720368547748E18, dtype, name)); return;
            case TensorDType.Int32: BinaryPrimitives.WriteInt32LittleEndian(destination, (int)Integral(value, int.MinValue, int.MaxValue, dtype, name)); return;
            case TensorDType.Int16: BinaryPrimitives.WriteInt16LittleEndian(destination, (short)Integral(value, short.MinValue, short.MaxValue, dtype, name)); return;
            case TensorDType.Int8: destination[0] = (byte)(sbyte)Integral(value, sbyte.MinValue, sbyte.MaxValue, dtype, name); return;
            case TensorDType.UInt8: destination[0] = (byte)Integral(value, 0, 255, dtype, name); return;
            case TensorDType.Bool: destination[0] = (byte)Integral(value, 0, 1, dtype, name); return;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
    }

    private static double Integral(float value, double min, double max, TensorDType dtype, string name)
    {
        if (value != MathF.Truncate(value) || value < min || value > max)
            throw new ArgumentException($"tensor '{name}': value {value.ToString(CultureInfo.InvariantCulture)} cannot be stored as {dtype}");
        return value;
    }

    /// <summary>float32 to bfloat16, rounding to nearest even (exact for values that came from bfloat16).</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
