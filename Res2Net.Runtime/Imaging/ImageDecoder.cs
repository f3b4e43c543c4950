using SkiaSharp;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Decodes an image file to the pixels OpenCV's <c>imread(path, IMREAD_COLOR)</c> gives, which is what mmpretrain's
/// <c>LoadImageFromFile</c> feeds the pipeline: three channels, grey replicated, alpha dropped without blending,
/// palette expanded, 16-bit samples cut to their high byte, EXIF orientation applied, and no colour management
/// (ICC profiles and gAMA are ignored). Skia's JPEG and PNG decoders (libjpeg-turbo, libpng) match OpenCV's bit for
/// bit, except CMYK JPEGs, whose CMYK to RGB step rounds as Pillow's does (at most 1 level from OpenCV per channel).
/// PPM and PGM are read by <see cref="NetpbmDecoder"/>, as OpenCV reads them. Unlike OpenCV, a JPEG or PNG that ends
/// early is refused rather than returned partly grey. Images over <see cref="ImageLimits"/> are refused from their
/// header, before any pixel memory is allocated.
/// </summary>
public static class ImageDecoder
{
    private const string Formats = "JPEG, PNG, BMP, WebP, PPM or PGM";

    /// <summary>Larger images are refused before any pixel memory is allocated: <see cref="ImageLimits.MaxPixels"/>, which is where to set it.</summary>
    public static long MaxPixels => ImageLimits.MaxPixels;

    /// <summary>Decodes the file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read, is not a supported image, is over a limit, or is truncated or corrupt.</exception>
    public static RgbImage Decode(string path)
    {
        using var image = DecodeFile(path);
        return image.ToRgbImage(path);
    }

    /// <summary>Decodes the rest of <paramref name="stream"/>; <paramref name="displayName"/> names it in errors.</summary>
    public static RgbImage Decode(Stream stream, string displayName) => Decode(ReadAll(stream, displayName), displayName);

    /// <summary>Decodes an encoded image held in memory; <paramref name="displayName"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] encoded, string displayName)
    {
        using var image = DecodeEncoded(encoded, displayName);
        return image.ToRgbImage(displayName);
    }

    /// <summary>The bytes of <paramref name="stream"/> from its position to its end.</summary>
    internal static byte[] ReadAll(Stream stream, string displayName)
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
        return buffer.ToArray();
    }

    /// <summary>
    /// Decodes the file into native memory held against the decode budget; dispose it to free both. The file is mapped
    /// into memory rather than read into a managed array, so it costs no garbage-collected memory either. With
    /// <paramref name="streamRows"/>, a JPEG without an EXIF rotation is decoded row by row as the rows are read
    /// (<see cref="ScanlineImage"/>), for a reader that reads each row once, top to bottom.
    /// </summary>
    internal static DecodedImage DecodeFile(string path, bool streamRows = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        long length;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            length = file.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ImageDecodeException(path, $"cannot read the file ({e.Message})", e);
        }
        if (length == 0)
            throw new ImageDecodeException(path, "the file is empty");
        if (length > int.MaxValue)
            throw new ImageDecodeException(path, $"the file is {length} bytes; files over 2 GiB are not supported");
        var data = SKData.Create(path)
            ?? throw new ImageDecodeException(path, "cannot read the file (it could not be mapped into memory)");
        return Decode(data, path, streamRows);
    }

    /// <summary><see cref="DecodeFile"/> for an encoded image held in memory.</summary>
    internal static DecodedImage DecodeEncoded(byte[] encoded, string displayName, bool streamRows = false)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
            throw new ImageDecodeException(displayName, "the file is empty");
        return Decode(SKData.CreateCopy(encoded), displayName, streamRows);
    }

    /// <summary>Decodes <paramref name="data"/>, which is disposed here unless the returned image streams from it.</summary>
    private static DecodedImage Decode(SKData data, string displayName, bool streamRows)
    {
        SKCodec? codec = null;
        DecodedImage? image = null;
        try
        {
            image = Decode(data, displayName, streamRows, out codec);
            return image;
        }
        finally
        {
            if (image is not ScanlineImage)
            {
                codec?.Dispose();
                data.Dispose();
            }
        }
    }

    private static unsafe DecodedImage Decode(SKData data, string displayName, bool streamRows, out SKCodec? codec)
    {
        codec = null;
        ReadOnlySpan<byte> encoded = data.AsSpan();
        if (NetpbmDecoder.IsNetpbm(encoded))
            return NetpbmDecoder.Decode(encoded, displayName, DecodeBudget.Shared);

        codec = SKCodec.Create(data);
        if (codec == null)
        {
            // libpng and Skia's BMP reader refuse very long sides before Skia can report a size: name the size then.
            ImageHeader.Read(encoded)?.Check(displayName);
            throw new ImageDecodeException(displayName, $"not a recognised image format (expected {Formats}), or its header is truncated");
        }

        SKEncodedImageFormat format = codec.EncodedFormat;
        if (format is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Bmp or SKEncodedImageFormat.Webp))
            throw new ImageDecodeException(displayName, $"{format} images are not supported: OpenCV's imread, which mmpretrain loads images with, cannot read them (use {Formats})");

        int width = codec.Info.Width, height = codec.Info.Height;
        ImageLimits.Check(displayName, width, height);

        // Skia cannot be relied on to notice these: it reports success for a truncated progressive JPEG (with pixels
        // that differ from OpenCV's), and for a PNG cut after its last IDAT, which OpenCV refuses.
        if (format == SKEncodedImageFormat.Jpeg && !JpegStructure.HasEndOfImage(encoded))
            throw new ImageDecodeException(displayName, "the JPEG data ends before its end-of-image marker (the file is truncated)");
        if (format == SKEncodedImageFormat.Png && !PngStructure.HasEnd(encoded))
            throw new ImageDecodeException(displayName, "the PNG data ends before its IEND chunk (the file is truncated)");

        // Unpremultiplied so that colour survives under any alpha (OpenCV drops alpha without touching colour);
        // a null colour space so that Skia does no colour conversion, as OpenCV does none.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        int orientation = ExifOrientation.Read(encoded);
        if (streamRows && orientation == 1 && format == SKEncodedImageFormat.Jpeg)
        {
            // A progressive JPEG is held whole inside libjpeg (every coefficient until the last scan); a baseline one
            // only a few rows at a time.
            long held = JpegStructure.IsProgressive(encoded) ? (long)width * height : (long)width * Math.Min(height, 64);
            if (ScanlineImage.TryStart(data, codec, info, displayName, DecodeBudget.Shared, held) is { } rows)
                return rows;
        }

        var image = BufferedImage.Allocate(width, height, 4, DecodeBudget.Shared);
        try
        {
            SKCodecResult result = codec.GetPixels(info, (IntPtr)image.Data);
            if (result != SKCodecResult.Success)
                throw new ImageDecodeException(displayName, Describe(result, format));
            image.Orientation = orientation;
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
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
