using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Res2Net.Runtime.IO;

/// <summary>
/// NumPy's .npy format for float32 arrays: the reference scripts exchange inputs, activations and logits this way.
/// Reading converts float64/float16/int64 arrays to float32 as well, since numpy's defaults produce them easily;
/// writing always produces version 1.0 little-endian float32 C-order files, which every numpy reads.
/// </summary>
public static class Npy
{
    internal static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>numpy refuses longer headers by default (max_header_size) for the same reason: they are not arrays.</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>Reads the .npy file at <paramref name="path"/> as float32, row-major.</summary>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a .npy stream (seeking not required); <paramref name="displayName"/> names it in messages.</summary>
    public static (float[] Data, int[] Shape) Read(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        try
        {
            return ReadCore(stream, displayName);
        }
        catch (Exception e) when (e is IOException and not NpyException || e is NotSupportedException)
        {
            throw new NpyException(displayName, "data", $"cannot read: {e.Message}", e);
        }
    }

    private static (float[] Data, int[] Shape) ReadCore(Stream stream, string file)
    {
        Span<byte> preamble = stackalloc byte[8];
        int got = stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false);
        if (got < 6 || !preamble[..6].SequenceEqual(Magic))
            throw new NpyException(file, "magic", "not a .npy file (expected the bytes \\x93NUMPY at the start)");
        if (got < 8) throw new NpyException(file, "version", "file ends inside the version");
        byte major = preamble[6], minor = preamble[7];
        if (major is not (1 or 2 or 3) || minor != 0)
            throw new NpyException(file, "version", $"format version {major}.{minor} not supported; expected 1.0, 2.0 or 3.0");

        Span<byte> lengthBytes = stackalloc byte[4];
        int lengthSize = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(lengthBytes[..lengthSize], lengthSize, throwOnEndOfStream: false) < lengthSize)
            throw new NpyException(file, "header", "file ends inside the header length");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
            throw new NpyException(file, "header", $"header claims {headerLength} bytes; at most {MaxHeaderLength} are accepted");
        byte[] headerBytes = BoundedRead.TryReadExactly(stream, headerLength, out long headerGot)
            ?? throw new NpyException(file, "header", $"file ends after {headerGot} of the header's {headerLength} bytes");
        string headerText;
        try
        {
            // Versions 1 and 2 are latin-1; version 3 exists only to allow UTF-8 field names.
            headerText = major == 3 ? new UTF8Encoding(false, true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new NpyException(file, "header", "is not valid UTF-8");
        }

        var header = NpyHeader.Parse(headerText, file);
        var element = ElementType.FromDescr(header.Descr, file);
        if (header.FortranOrder)
            throw new NpyException(file, "fortran_order", "True is not supported; save a C-order array (np.ascontiguousarray)");

        var shape = new int[header.Shape.Length];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (header.Shape[i] > int.MaxValue)
                throw new NpyException(file, "shape", $"dimension {i} is {header.Shape[i]}, larger than an int");
            shape[i] = (int)header.Shape[i];
            count *= shape[i];
            if (count > Array.MaxLength / element.Size)
                throw new NpyException(file, "shape", $"({string.Join(", ", header.Shape)}) holds more elements than one array can");
        }

        long byteCount = count * element.Size;
        bool present = stream.CanSeek && byteCount <= stream.Length - stream.Position;
        byte[] raw = BoundedRead.TryReadExactly(stream, byteCount, out long dataGot, countIsVerified: present)
            ?? throw new NpyException(file, "data",
                $"shape ({string.Join(", ", shape)}) of '{header.Descr}' needs {byteCount} bytes but the file holds only {dataGot}");
        var data = new float[count];
        element.Convert(raw, data);
        return (data, shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> (row-major, product of <paramref name="shape"/> elements) as a float32 .npy file,
    /// through <see cref="AtomicFileWriter"/>: the path holds the old file until the new one is complete.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var output = AtomicFileWriter.Create(path);
        Write(output.Stream, data, shape);
        output.Commit();
    }

    /// <summary>Writes a float32 .npy image to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0) throw new ArgumentException($"negative dimension {dim} in shape", nameof(shape));
            count *= dim;
        }
        if (count != data.Length)
            throw new ArgumentException($"shape ({string.Join(", ", shape.ToArray())}) needs {count} values but {data.Length} were given", nameof(data));

        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => "(" + string.Join(", ", shape.ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";
        // numpy pads the header with spaces and a newline so the data starts 64-byte aligned.
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        byte[] header = Encoding.Latin1.GetBytes(dict + new string(' ', padding) + "\n");
        if (header.Length > ushort.MaxValue)
            throw new ArgumentException("shape too long for a version 1.0 header", nameof(shape));

        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(header);
        if (BitConverter.IsLittleEndian)
            stream.Write(MemoryMarshal.AsBytes(data));
        else
        {
            var buffer = new byte[4];
            foreach (float value in data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
                stream.Write(buffer);
            }
        }
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NpyException(path, "file", $"cannot open: {e.Message}", e);
        }
    }

    /// <summary>The element types we read, by numpy descr, with their conversion to float32.</summary>
    private sealed record ElementType(int Size, Action<byte[], float[]> Convert)
    {
        public static ElementType FromDescr(string descr, string file) => descr switch
        {
            "<f4" => new(4, (raw, dst) =>
            {
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(raw).CopyTo(dst);
                else for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4));
            }),
            "<f8" => new(8, (raw, dst) =>
            {
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8));
            }),
            "<f2" => new(2, (raw, dst) =>
            {
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(i * 2));
            }),
            "<i8" => new(8, (raw, dst) =>
            {
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8));
            }),
            _ => throw new NpyException(file, "descr",
                $"dtype '{(descr.Length > 40 ? descr[..40] + "..." : descr)}' not supported; expected float32 '<f4' (also read: '<f8', '<f2', '<i8')"),
        };
    }
}
