using System.Buffers.Binary;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The chunk list of a PNG file. Used to find the <c>eXIf</c> chunk and to refuse files without <c>IEND</c>, which
/// OpenCV's libpng reader refuses too (it reads to the end of the file).
/// </summary>
internal static class PngStructure
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(ReadOnlySpan<byte> f) => f.StartsWith(Signature);

    /// <summary>The data of the first chunk of type <paramref name="type"/> anywhere before IEND, or empty.</summary>
    public static ReadOnlySpan<byte> FirstChunk(ReadOnlySpan<byte> f, ReadOnlySpan<byte> type)
    {
        int pos = Signature.Length;
        while (NextChunk(f, ref pos, out ReadOnlySpan<byte> found, out ReadOnlySpan<byte> data))
        {
            if (found.SequenceEqual(type))
                return data;
            if (found.SequenceEqual("IEND"u8))
                break;
        }
        return default;
    }

    /// <summary>Whether the chunk list is intact up to an IEND chunk.</summary>
    public static bool HasEnd(ReadOnlySpan<byte> f)
    {
        int pos = Signature.Length;
        while (NextChunk(f, ref pos, out ReadOnlySpan<byte> type, out _))
        {
            if (type.SequenceEqual("IEND"u8))
                return true;
        }
        return false;
    }

    private static bool NextChunk(ReadOnlySpan<byte> f, scoped ref int pos, out ReadOnlySpan<byte> type, out ReadOnlySpan<byte> data)
    {
        type = data = default;
        if (pos > f.Length - 12)
            return false;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(f[pos..]);
        if (length > (uint)(f.Length - pos - 12))
            return false; // the chunk (with its CRC) runs past the end of the file
        type = f.Slice(pos + 4, 4);
        data = f.Slice(pos + 8, (int)length);
        pos += 12 + (int)length;
        return true;
    }
}
