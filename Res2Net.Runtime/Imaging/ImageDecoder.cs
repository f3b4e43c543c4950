using SkiaSharp;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Decodes an image file to the pixels OpenCV's <c>imread(path, IMREAD_COLOR)</c> gives, which is what mmpretrain's
/// <c>LoadImageFromFile</c> feeds the pipeline: three channels, grey replicated, alpha dropped without blending,
/// palette expanded, 16-bit samples cut to their high byte, EXIF orientation applied, and no colour management
/// (ICC profiles and gAMA are ignored). Skia's JPEG and PNG decoders (libjpeg-turbo, libpng) match OpenCV's bit for
/// bit, except CMYK JPEGs, whose CMYK to RGB step rounds differently (at most 1 level per channel).
/// Unlike OpenCV, a JPEG or PNG that ends early is refused rather than returned partly grey.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Larger images are refused before any pixel memory is allocated (16384 x 16384).</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>Decodes the file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read, is not a supported image, or is truncated or corrupt.</exception>
    public static RgbImage Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ImageDecodeException(path, $"cannot read the file ({e.Message})", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes the rest of <paramref name="stream"/>; <paramref name="displayName"/> names it in errors.</summary>
    public static RgbImage Decode(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        try
        {
            stream.CopyTo(buffer);
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(displayName, $"cannot read the stream ({e.Message})", e);
        }
        return Decode(buffer.ToArray(), displayName);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="displayName"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] encoded, string displayName)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
            throw new ImageDecodeException(displayName, "the file is empty");

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageDecodeException(displayName, "not a recognised image format (expected JPEG, PNG, BMP or WebP), or its header is truncated");

        SKEncodedImageFormat format = codec.EncodedFormat;
        if (format is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Bmp or SKEncodedImageFormat.Webp))
            throw new ImageDecodeException(displayName, $"{format} images are not supported: OpenCV's imread, which mmpretrain loads images with, cannot read them (use JPEG, PNG, BMP or WebP)");

        // Skia cannot be relied on to notice these: it reports success for a truncated progressive JPEG (with pixels
        // that differ from OpenCV's), and for a PNG cut after its last IDAT, which OpenCV refuses.
        if (format == SKEncodedImageFormat.Jpeg && !JpegStructure.HasEndOfImage(encoded))
            throw new ImageDecodeException(displayName, "the JPEG data ends before its end-of-image marker (the file is truncated)");
        if (format == SKEncodedImageFormat.Png && !PngStructure.HasEnd(encoded))
            throw new ImageDecodeException(displayName, "the PNG data ends before its IEND chunk (the file is truncated)");

        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException(displayName, $"invalid image size {width}x{height}");
        if ((long)width * height > MaxPixels)
            throw new ImageDecodeException(displayName, $"{width}x{height} is larger than the {MaxPixels}-pixel limit");

        // Unpremultiplied so that colour survives under any alpha (OpenCV drops alpha without touching colour);
        // a null colour space so that Skia does no colour conversion, as OpenCV does none.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        byte[] rgba = new byte[info.BytesSize64];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba)
                result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(displayName, Describe(result, format));

        var image = new RgbImage(width, height);
        byte[] rgb = image.Pixels;
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return ExifOrientation.Apply(image, ExifOrientation.Read(encoded));
    }

    // OpenCV returns a partly grey image for a truncated JPEG and mmpretrain would classify it; refusing it is
    // deliberate, since a half-decoded photo gives a confident but meaningless answer. (A JPEG that is complete but
    // lacks only its EOI marker is refused too: from the bytes alone it cannot be told from a truncated one.)
    private static string Describe(SKCodecResult result, SKEncodedImageFormat format) => result switch
    {
        SKCodecResult.IncompleteInput => $"the {format} data ends early (the file is truncated)",
        SKCodecResult.ErrorInInput => $"the {format} data is corrupt",
        SKCodecResult.InvalidConversion => $"this {format} variant cannot be converted to RGB",
        _ => $"decoding the {format} data failed ({result})",
    };
}
