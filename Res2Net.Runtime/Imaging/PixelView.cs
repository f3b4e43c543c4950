namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Pixels seen through an EXIF orientation without moving them: pixel (x, y) of the upright image starts at
/// <c>Origin + x * StepX + y * StepY</c>, its red, green and blue bytes in order. A decoded image is resized straight
/// from its buffer this way, so a rotated photo needs no rotated copy. The memory must stay pinned while the view is used.
/// </summary>
internal readonly unsafe struct PixelView : IRowSource
{
    private PixelView(byte* origin, long stepX, long stepY, int width, int height)
    {
        Origin = origin;
        StepX = stepX;
        StepY = stepY;
        Width = width;
        Height = height;
    }

    public byte* Origin { get; }

    /// <summary>Bytes from a pixel to its right-hand neighbour in the upright image (may be negative).</summary>
    public long StepX { get; }

    /// <summary>Bytes from a pixel to the one below it in the upright image (may be negative).</summary>
    public long StepY { get; }

    /// <summary>Width of the upright image.</summary>
    public int Width { get; }

    /// <summary>Height of the upright image.</summary>
    public int Height { get; }

    public byte* At(int x, int y) => Origin + x * StepX + y * StepY;

    public byte* Row(int y) => Origin + y * StepY;

    /// <summary>
    /// The upright view of a <paramref name="width"/> x <paramref name="height"/> buffer, row-major with
    /// <paramref name="bytesPerPixel"/> bytes a pixel (RGB first), under EXIF <paramref name="orientation"/> 1-8
    /// (orientations 5-8 are a transpose followed by a flip).
    /// </summary>
    public static PixelView Oriented(byte* data, int width, int height, int bytesPerPixel, int orientation)
    {
        long px = bytesPerPixel, row = (long)width * bytesPerPixel;
        long right = (width - 1) * px, bottom = (height - 1) * row;
        // Orientations 5-8 transpose: an upright row runs down a stored column.
        return orientation switch
        {
            1 => new(data, px, row, width, height),
            2 => new(data + right, -px, row, width, height),
            3 => new(data + right + bottom, -px, -row, width, height),
            4 => new(data + bottom, px, -row, width, height),
            5 => new(data, row, px, height, width),
            6 => new(data + bottom, -row, px, height, width),
            7 => new(data + right + bottom, -row, -px, height, width),
            8 => new(data + right, row, -px, height, width),
            _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1..8"),
        };
    }

    /// <summary>A copy of the upright pixels of <paramref name="source"/>, read row by row.</summary>
    public static RgbImage Copy<TSource>(TSource source) where TSource : IRowSource
    {
        var image = new RgbImage(source.Width, source.Height);
        long step = source.StepX;
        fixed (byte* dst = image.Pixels)
        {
            byte* d = dst;
            for (int y = 0; y < source.Height; y++)
            {
                byte* s = source.Row(y);
                for (int x = 0; x < source.Width; x++, s += step, d += 3)
                {
                    d[0] = s[0];
                    d[1] = s[1];
                    d[2] = s[2];
                }
            }
        }
        return image;
    }
}
