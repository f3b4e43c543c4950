using Res2Net.Runtime.Imaging;
using SkiaSharp;

namespace Res2Net.Runtime.Visualization;

/// <summary>Writes an <see cref="RgbImage"/> as a PNG (lossless, so a picture's pixels can be checked exactly) with SkiaSharp.</summary>
public static class PngEncoder
{
    /// <summary>Encodes <paramref name="image"/> as an 8-bit RGB PNG into <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var bitmap = ToBitmap(image);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width}x{image.Height} PNG");
        data.SaveTo(stream);
    }

    /// <summary>The image as an opaque Skia bitmap (RGBA, alpha 255), for drawing on.</summary>
    internal static SKBitmap ToBitmap(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgb = image.Pixels;
        int stride = bitmap.RowBytes;
        unsafe
        {
            byte* dst = (byte*)bitmap.GetPixels();
            for (int y = 0; y < image.Height; y++)
            {
                byte* row = dst + (long)y * stride;
                int src = y * image.Width * 3;
                for (int x = 0; x < image.Width; x++)
                {
                    row[4 * x] = rgb[src + 3 * x];
                    row[4 * x + 1] = rgb[src + 3 * x + 1];
                    row[4 * x + 2] = rgb[src + 3 * x + 2];
                    row[4 * x + 3] = 255;
                }
            }
        }
        return bitmap;
    }

    /// <summary>An opaque RGBA bitmap back to RGB bytes.</summary>
    internal static RgbImage FromBitmap(SKBitmap bitmap)
    {
        var image = new RgbImage(bitmap.Width, bitmap.Height);
        int stride = bitmap.RowBytes;
        unsafe
        {
            byte* src = (byte*)bitmap.GetPixels();
            for (int y = 0; y < image.Height; y++)
            {
                byte* row = src + (long)y * stride;
                int dst = y * image.Width * 3;
                for (int x = 0; x < image.Width; x++)
                {
                    image.Pixels[dst + 3 * x] = row[4 * x];
                    image.Pixels[dst + 3 * x + 1] = row[4 * x + 1];
                    image.Pixels[dst + 3 * x + 2] = row[4 * x + 2];
                }
            }
        }
        return image;
    }
}
