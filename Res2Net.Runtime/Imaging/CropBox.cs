namespace Res2Net.Runtime.Imaging;

/// <summary>A rectangle of pixels, left/top inclusive.</summary>
public readonly record struct CropBox(int X, int Y, int Width, int Height)
{
    /// <summary>
    /// mmcv's <c>CenterCrop</c> box: <c>x1 = max(0, round((W - cropW) / 2))</c> with Python's round-half-to-even
    /// (a 317-pixel side gives offset 46, not 47), then clipped to the image as <c>mmcv.imcrop</c> does, so an
    /// image smaller than the crop yields a smaller box rather than padding.
    /// </summary>
    public static CropBox Centered(int imageWidth, int imageHeight, int cropWidth, int cropHeight)
    {
        (int x, int w) = Axis(imageWidth, cropWidth);
        (int y, int h) = Axis(imageHeight, cropHeight);
        return new CropBox(x, y, w, h);
    }

    private static (int Offset, int Length) Axis(int size, int crop)
    {
        if (size <= 0 || crop <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"sizes must be positive (image {size}, crop {crop})");
        // (size - crop) / 2.0 is exact in double, so this rounds exactly as Python's round() on it.
        int offset = Math.Max(0, (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven));
        int end = Math.Min(size, offset + crop);
        return (offset, end - offset);
    }
}
