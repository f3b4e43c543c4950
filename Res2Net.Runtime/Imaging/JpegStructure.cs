using System.Buffers.Binary;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// The marker segments of a JPEG file, as libjpeg sees them before the first scan. Used to find the EXIF block the
/// way OpenCV does and to spot files that end before their end-of-image marker.
/// </summary>
internal static class JpegStructure
{
    private const byte StartOfScan = 0xDA, EndOfImage = 0xD9;

    public static bool IsJpeg(ReadOnlySpan<byte> f) => f.Length >= 3 && f[0] == 0xFF && f[1] == 0xD8 && f[2] == 0xFF;

    /// <summary>The payload of the first segment with <paramref name="marker"/> before the first scan, or empty.</summary>
    public static ReadOnlySpan<byte> FirstSegment(ReadOnlySpan<byte> f, byte marker)
    {
        int pos = 2;
        while (NextSegment(f, ref pos, out byte found, out int start, out int length))
        {
            if (found == marker)
                return f.Slice(start, length);
            if (found is StartOfScan or EndOfImage)
                break;
        }
        return default;
    }

    /// <summary>Whether the frame is progressive (SOF2, SOF6, SOF10 or SOF14): libjpeg then holds every coefficient until the end.</summary>
    public static bool IsProgressive(ReadOnlySpan<byte> f)
    {
        int pos = 2;
        while (NextSegment(f, ref pos, out byte marker, out _, out _))
        {
            if (marker is 0xC2 or 0xC6 or 0xCA or 0xCE)
                return true;
            if (marker is StartOfScan or EndOfImage)
                break;
        }
        return false;
    }

    /// <summary>
    /// Whether an EOI marker follows the first scan. Entropy-coded data never contains FF D9 (an FF there is always
    /// stuffed or a restart marker), so finding one means the encoder finished writing the file.
    /// </summary>
    public static bool HasEndOfImage(ReadOnlySpan<byte> f)
    {
        int pos = 2;
        while (NextSegment(f, ref pos, out byte marker, out int start, out int length))
        {
            if (marker == EndOfImage)
                return true;
            if (marker == StartOfScan)
                return f[(start + length)..].IndexOf([(byte)0xFF, EndOfImage]) >= 0;
        }
        return false;
    }

    /// <summary>Reads the segment at <paramref name="pos"/> and moves past it; false at the end of usable data.</summary>
    private static bool NextSegment(ReadOnlySpan<byte> f, ref int pos, out byte marker, out int payloadStart, out int payloadLength)
    {
        payloadStart = payloadLength = 0;
        // Like libjpeg's next_marker: skip stray bytes (it only warns about them), FF fill bytes and FF 00 pairs.
        do
        {
            while (pos < f.Length && f[pos] != 0xFF)
                pos++;
            while (pos + 1 < f.Length && f[pos + 1] == 0xFF)
                pos++;
            if (pos + 1 >= f.Length)
            {
                marker = 0;
                return false;
            }
            marker = f[pos + 1];
            if (marker == 0)
                pos += 2;
        }
        while (marker == 0);
        if (marker is 0x01 or EndOfImage or (>= 0xD0 and <= 0xD7))
        {
            payloadStart = pos + 2; // markers without a length field
            pos += 2;
            return true;
        }
        if (pos + 4 > f.Length)
            return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(f[(pos + 2)..]);
        if (length < 2 || pos + 2 + length > f.Length)
            return false;
        payloadStart = pos + 4;
        payloadLength = length - 2;
        pos += 2 + length;
        return true;
    }
}
