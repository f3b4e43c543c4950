using System.Buffers.Binary;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The size a PNG or BMP header declares, read without a decoder. libpng and Skia's BMP reader refuse sides above their
/// own limits before reporting a size, and the error should then say the image is too large, not unrecognised.
/// </summary>
/// <param name="Format">"PNG" or "BMP".</param>
/// <param name="Width">The declared width.</param>
/// <param name="Height">The declared height.</param>
/// <param name="DecoderMaxSide">The longest side the decoder accepts: libpng's default user limit for PNG (1000000,
/// which OpenCV's libpng has too), Skia's for BMP (65535; OpenCV would read more).</param>
internal readonly record struct ImageHeader(string Format, long Width, long Height, long DecoderMaxSide)
{
    /// <summary>The declared size, or null when the file is neither a PNG nor a BMP with a readable header.</summary>
    public static ImageHeader? Read(ReadOnlySpan<byte> f)
    {
        // PNG: IHDR starts with the big-endian width and height.
        if (PngStructure.IsPng(f) && PngStructure.FirstChunk(f, "IHDR"u8) is { Length: >= 8 } ihdr)
            return new("PNG", BinaryPrimitives.ReadUInt32BigEndian(ihdr), BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]), 1_000_000);
        // BMP with a BITMAPINFOHEADER or later: signed little-endian width and height (negative height: top-down rows).
        if (f.Length >= 26 && f[0] == 'B' && f[1] == 'M' && BinaryPrimitives.ReadUInt32LittleEndian(f[14..]) >= 40)
            return new("BMP", BinaryPrimitives.ReadInt32LittleEndian(f[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(f[22..])), 65535);
        return null;
    }

    /// <summary>Refuses a size over OpenCV's, the pixel limit or the decoder's own, naming the one it is over.</summary>
    /// <exception cref="ImageDecodeException">The size is over a limit.</exception>
    public void Check(string displayName)
    {
        ImageLimits.Check(displayName, Width, Height);
        if (Width > DecoderMaxSide || Height > DecoderMaxSide)
            throw new ImageDecodeException(displayName, $"{Width}x{Height}: the {Format} decoder used here reads sides of at most {DecoderMaxSide} pixels");
    }
}
