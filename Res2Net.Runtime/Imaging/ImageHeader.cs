using System.Buffers.Binary;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The size a PNG or BMP header declares, read without a decoder: libpng and Skia refuse sides above their own limits
/// before reporting a size, and the error should then say that the image is too large rather than unrecognised.
/// </summary>
internal static class ImageHeader
{
    /// <summary>The declared width and height, or null when the file is neither a PNG nor a BMP with a readable header.</summary>
    public static (long Width, long Height)? Size(ReadOnlySpan<byte> f)
    {
        // PNG: the signature, then IHDR's length and type, then big-endian width and height.
        if (PngStructure.IsPng(f) && f.Length >= 24 && f[12..16].SequenceEqual("IHDR"u8))
            return (BinaryPrimitives.ReadUInt32BigEndian(f[16..]), BinaryPrimitives.ReadUInt32BigEndian(f[20..]));
        // BMP with a BITMAPINFOHEADER or later: signed little-endian width and height (negative height: top-down rows).
        if (f.Length >= 26 && f[0] == 'B' && f[1] == 'M' && BinaryPrimitives.ReadUInt32LittleEndian(f[14..]) >= 40)
            return (BinaryPrimitives.ReadInt32LittleEndian(f[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(f[22..])));
        return null;
    }
}
