using System.Buffers.Binary;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The EXIF orientation tag, found and applied the way OpenCV 4.6's <c>imread</c> does it. Skia reports an
/// orientation too, but reads it from a different APP1 segment than OpenCV in some files, so we read it ourselves.
/// </summary>
public static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>
    /// The orientation (1..8) stored in a JPEG's or PNG's EXIF data, or 1 when there is none or it is unreadable.
    /// Other formats give 1: OpenCV 4.6 reads EXIF only from JPEG and PNG (a WebP's orientation is ignored).
    /// </summary>
    public static int Read(ReadOnlySpan<byte> file)
    {
        // OpenCV honours an eXIf chunk even after IDAT, so the whole chunk list is searched.
        ReadOnlySpan<byte> tiff = JpegStructure.IsJpeg(file) ? JpegExif(file)
            : PngStructure.IsPng(file) ? PngStructure.FirstChunk(file, "eXIf"u8)
            : default;
        int value = tiff.IsEmpty ? 1 : TiffOrientation(tiff);
        return value is >= 1 and <= 8 ? value : 1;
    }

    /// <summary>Returns <paramref name="image"/> turned so that it displays upright (the same object for orientation 1).</summary>
    public static unsafe RgbImage Apply(RgbImage image, int orientation)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (orientation is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1..8");
        if (orientation == 1)
            return image;
        fixed (byte* p = image.Pixels)
            return PixelView.Copy(PixelView.Oriented(p, image.Width, image.Height, 3, orientation));
    }

    /// <summary>
    /// The TIFF block of the first APP1 segment. OpenCV looks at the first APP1 only, so an XMP segment placed
    /// before the Exif one hides the orientation from it; we do the same.
    /// </summary>
    private static ReadOnlySpan<byte> JpegExif(ReadOnlySpan<byte> f)
    {
        ReadOnlySpan<byte> app1 = JpegStructure.FirstSegment(f, 0xE1);
        return app1.StartsWith("Exif\0\0"u8) ? app1[6..] : default;
    }

    /// <summary>The orientation entry of IFD0, or 1. Like OpenCV, reads the first 16-bit word of the value field.</summary>
    private static int TiffOrientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
            return 1;
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return 1;

        if (U16(tiff, 2, little) != 42)
            return 1;
        uint ifd = U32(tiff, 4, little);
        if (ifd > (uint)tiff.Length - 2)
            return 1;
        int count = U16(tiff, (int)ifd, little);
        int orientation = 1;
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length)
                break; // a short IFD: keep what was read so far, as OpenCV's tag map does
            if (U16(tiff, (int)entry, little) == OrientationTag)
                orientation = U16(tiff, (int)entry + 8, little);
        }
        return orientation;
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt16BigEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);
}
