namespace Res2Net.Runtime.Imaging;

/// <summary>
/// An 8-bit RGB image, interleaved and row-major (<c>Pixels[(y * Width + x) * 3 + c]</c>, c = 0 red).
/// Every preprocessing stage works on this one layout so that each stage can be compared byte for byte
/// with what OpenCV and Pillow produce.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height)
        : this(width, height, new byte[checked(ValidatedPixelCount(width, height) * 3)])
    {
    }

    /// <summary>Wraps <paramref name="pixels"/> without copying.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = ValidatedPixelCount(width, height) * 3;
        if (pixels.Length != expected)
            throw new ArgumentException($"a {width}x{height} RGB image needs {expected} bytes, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>RGB interleaved, row-major, <c>Width * Height * 3</c> bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>One row, <c>Width * 3</c> bytes.</summary>
    public Span<byte> Row(int y) => Pixels.AsSpan(checked(y * Width * 3), Width * 3);

    public override string ToString() => $"RgbImage {Width}x{Height}";

    private static long ValidatedPixelCount(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        long count = (long)width * height;
        // byte[] tops out just under 2^31 elements.
        if (count * 3 > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(width), $"a {width}x{height} image is too large to hold in memory");
        return count;
    }
}
