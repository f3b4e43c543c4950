using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// safetensors (huggingface/safetensors): a little-endian u64 header size N, N bytes of UTF-8 JSON
/// <c>{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}</c>, then the data
/// section. Validated as the reference implementation does: offsets relative to the data section, every tensor's
/// byte count equal to its shape times its dtype size, and the tensors tiling the data section exactly (sorted by
/// offset: no overlap, no gap, nothing past the end, nothing left over).
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>The reference implementation's limit on the JSON header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True when the file starts like safetensors: a header size that fits the file, and JSON's '{' after it.</summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> head, long fileLength) =>
        head.Length >= 9 && head[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(head) <= (ulong)Math.Max(fileLength - 8, 0);

    /// <summary>True when the file starts with '{' after 8 bytes, whatever the size says (a corrupt safetensors header).</summary>
    public static bool HasJsonAfterSize(ReadOnlySpan<byte> head) => head.Length >= 9 && head[8] == (byte)'{';

    public static TensorTable Open(Stream stream, string file)
    {
        long start = stream.Position;
        long length = stream.Length - start;
        if (length < 8)
            throw new CheckpointException(file, $"safetensors file is {length} bytes; the 8-byte header size alone needs more");
        Span<byte> sizeBytes = stackalloc byte[8];
        stream.ReadExactly(sizeBytes);
        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(sizeBytes);
        if (headerSize > MaxHeaderBytes)
            throw new CheckpointException(file, $"safetensors header size is {headerSize} bytes, more than the format's limit of {MaxHeaderBytes}");
        if (headerSize > (ulong)(length - 8))
            throw new CheckpointException(file,
                $"safetensors header size is {headerSize} bytes but the file has only {length - 8} after the size field; the file is truncated or corrupt");
        if (headerSize < 2)
            throw new CheckpointException(file, $"safetensors header size is {headerSize} bytes; even an empty header needs 2 ('{{}}')");

        var header = new byte[headerSize];
        stream.ReadExactly(header);
        long dataStart = start + 8 + (long)headerSize;
        long dataLength = length - 8 - (long)headerSize;

        var (entries, metadata) = ParseHeader(header, dataLength, file);
        var table = entries.Select(e => new TableEntry(e.Name, e.Shape, e.DType, () => Read(stream, dataStart, e, file))).ToList();
        return new TensorTable(CheckpointFormat.Safetensors, StateDict.NoWrapper, table, metadata, null);
    }

    private sealed record Entry(string Name, int[] Shape, TensorDType DType, long Begin, long End);

    private static (List<Entry> Entries, IReadOnlyDictionary<string, string> Metadata) ParseHeader(byte[] header, long dataLength, string file)
    {
        if (header[0] != (byte)'{')
            throw new CheckpointException(file, $"safetensors header starts with byte 0x{header[0]:x2}, not '{{'");
        string text;
        try
        {
            text = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointException(file, "safetensors header is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(file, $"safetensors header is not valid JSON: {e.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(file, $"safetensors header is a JSON {root.ValueKind}; expected an object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new CheckpointException(file, $"safetensors header names '{DisplayText.Shorten(property.Name)}' twice");
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, file);
                    continue;
                }
                entries.Add(ReadEntry(property.Name, property.Value, file));
            }
            CheckTiling(entries, dataLength, file);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(file, $"safetensors '{MetadataKey}' is a JSON {value.ValueKind}; expected an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(file, $"safetensors '{MetadataKey}' entry '{DisplayText.Shorten(item.Name)}' is a JSON {item.Value.ValueKind}; the format allows only strings");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new CheckpointException(file, $"safetensors '{MetadataKey}' names '{DisplayText.Shorten(item.Name)}' twice");
        }
    }

    private static Entry ReadEntry(string name, JsonElement value, string file)
    {
        string where = $"safetensors tensor '{DisplayText.Shorten(name)}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(file, $"{where} is a JSON {value.ValueKind}; expected {{\"dtype\", \"shape\", \"data_offsets\"}}");

        if (!value.TryGetProperty("dtype", out var dtypeValue) || dtypeValue.ValueKind != JsonValueKind.String)
            throw new CheckpointException(file, $"{where} has no string 'dtype'");
        string dtypeName = dtypeValue.GetString()!;
        if (!TryParseDType(dtypeName, out var dtype))
            throw new CheckpointException(file,
                $"{where} has dtype '{DisplayText.Shorten(dtypeName)}'; supported are F32, F16, BF16, F64 (converted to float32) and I64, I32, I16, I8, U8, BOOL");
        StateDictAssembler.CheckDType(name, dtype, file);

        if (!value.TryGetProperty("shape", out var shapeValue) || shapeValue.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(file, $"{where} has no 'shape' array");
        var shape = new List<int>();
        long count = 1;
        foreach (var dim in shapeValue.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
                throw new CheckpointException(file, $"{where} has shape entry {DisplayText.Shorten(dim.GetRawText())}; expected a non-negative integer");
            if (shape.Count >= 32)
                throw new CheckpointException(file, $"{where} has more than 32 dimensions");
            if (d > int.MaxValue || (d > 0 && count > Array.MaxLength / d))
                throw new CheckpointException(file, $"{where} has shape [{string.Join(", ", shape.Append((int)Math.Min(d, int.MaxValue)))}...] with more elements than one array holds");
            count *= d;
            shape.Add((int)d);
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointException(file, $"{where} has no 'data_offsets' [begin, end] pair");
        long[] pair = new long[2];
        for (int i = 0; i < 2; i++)
        {
            var o = offsets[i];
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out pair[i]) || pair[i] < 0)
                throw new CheckpointException(file, $"{where} has data offset {DisplayText.Shorten(o.GetRawText())}; expected a non-negative integer");
        }
        if (pair[1] < pair[0])
            throw new CheckpointException(file, $"{where} has data_offsets [{pair[0]}, {pair[1]}]: the end comes before the begin");
        long bytes = count * dtype.ElementSize();
        if (pair[1] - pair[0] != bytes)
            throw new CheckpointException(file,
                $"{where} has data_offsets [{pair[0]}, {pair[1]}] ({pair[1] - pair[0]} bytes) but shape [{string.Join(", ", shape)}] of {dtypeName} needs {bytes}");
        return new Entry(name, shape.ToArray(), dtype, pair[0], pair[1]);
    }

    /// <summary>The tensors, sorted by offset, must cover the data section exactly once.</summary>
    private static void CheckTiling(List<Entry> entries, long dataLength, string file)
    {
        long at = 0;
        Entry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < at)
                throw new CheckpointException(file,
                    $"safetensors tensor '{DisplayText.Shorten(e.Name)}' at [{e.Begin}, {e.End}] overlaps '{DisplayText.Shorten(previous!.Name)}' at [{previous.Begin}, {previous.End}]");
            if (e.Begin > at)
                throw new CheckpointException(file,
                    $"safetensors data has a gap: bytes [{at}, {e.Begin}) before tensor '{DisplayText.Shorten(e.Name)}' belong to no tensor");
            if (e.End > dataLength)
                throw new CheckpointException(file,
                    $"safetensors tensor '{DisplayText.Shorten(e.Name)}' at [{e.Begin}, {e.End}] reaches past the {dataLength}-byte data section; the file is truncated or corrupt");
            at = e.End;
            previous = e;
        }
        if (at != dataLength)
            throw new CheckpointException(file, $"safetensors data section has {dataLength} bytes but its tensors cover {at}; the file is corrupt or has trailing data");
    }

    private static float[] Read(Stream stream, long dataStart, Entry e, string file)
    {
        long count = e.Shape.Aggregate(1L, (a, b) => a * b);
        var result = new float[count];
        if (count == 0) return result;
        stream.Position = dataStart + e.Begin;
        if (e.DType == TensorDType.Float32 && BitConverter.IsLittleEndian)
        {
            ReadExactly(stream, MemoryMarshal.AsBytes(result.AsSpan()), e, file);
            return result;
        }
        // Other dtypes convert through a bounded staging buffer.
        int size = e.DType.ElementSize();
        int chunk = Math.Max(1, (1 << 20) / size);
        var buffer = new byte[Math.Min(count, chunk) * size];
        for (long done = 0; done < count; done += chunk)
        {
            int n = (int)Math.Min(chunk, count - done);
            var bytes = buffer.AsSpan(0, n * size);
            ReadExactly(stream, bytes, e, file);
            TensorMaterializer.Convert(bytes, e.DType, result.AsSpan((int)done, n));
        }
        return result;
    }

    private static void ReadExactly(Stream stream, Span<byte> destination, Entry e, string file)
    {
        int got = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length)
            throw new CheckpointException(file, $"safetensors tensor '{DisplayText.Shorten(e.Name)}': file ended inside its data; it changed while being read, or is truncated");
    }

    public static bool TryParseDType(string name, out TensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDType.Float32; return true;
            case "F16": dtype = TensorDType.Float16; return true;
            case "BF16": dtype = TensorDType.BFloat16; return true;
            case "F64": dtype = TensorDType.Float64; return true;
            case "I64": dtype = TensorDType.Int64; return true;
            case "I32": dtype = TensorDType.Int32; return true;
            case "I16": dtype = TensorDType.Int16; return true;
            case "I8": dtype = TensorDType.Int8; return true;
            case "U8": dtype = TensorDType.UInt8; return true;
            case "BOOL": dtype = TensorDType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    public static string DTypeName(TensorDType dtype) => dtype switch
    {
        TensorDType.Float32 => "F32",
        TensorDType.Float16 => "F16",
        TensorDType.BFloat16 => "BF16",
        TensorDType.Float64 => "F64",
        TensorDType.Int64 => "I64",
        TensorDType.Int32 => "I32",
        TensorDType.Int16 => "I16",
        TensorDType.Int8 => "I8",
        TensorDType.UInt8 => "U8",
        TensorDType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

}
