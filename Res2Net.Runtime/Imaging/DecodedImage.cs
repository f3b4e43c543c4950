using System.Runtime.InteropServices;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// A decoded image in native memory, held against the <see cref="DecodeBudget"/> until disposed. Full-size pixels live
/// only here, outside the garbage-collected heap, and are freed the moment preprocessing is done with them: a
/// 16000 x 16000 photo's gigabyte does not linger until the next full collection.
/// </summary>
internal sealed unsafe class DecodedImage : IDisposable
{
    private byte* _data;
    private readonly DecodeBudget.Lease _lease;

    private DecodedImage(byte* data, int width, int height, int bytesPerPixel, DecodeBudget.Lease lease)
    {
        _data = data;
        Width = width;
        Height = height;
        BytesPerPixel = bytesPerPixel;
        _lease = lease;
    }

    /// <summary>Stored width (before the orientation is applied).</summary>
    public int Width { get; }

    /// <summary>Stored height.</summary>
    public int Height { get; }

    /// <summary>3 (RGB) or 4 (RGBA, the alpha ignored).</summary>
    public int BytesPerPixel { get; }

    /// <summary>EXIF orientation 1..8, applied by <see cref="View"/>.</summary>
    public int Orientation { get; set; } = 1;

    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(DecodedImage));

    public long ByteCount => (long)Width * Height * BytesPerPixel;

    /// <summary>The upright pixels.</summary>
    public PixelView View => PixelView.Oriented(Data, Width, Height, BytesPerPixel, Orientation);

    /// <summary>
    /// Takes <paramref name="width"/> x <paramref name="height"/> pixels from <paramref name="budget"/> (waiting while other
    /// decodes hold too much of it), then allocates them.
    /// </summary>
    public static DecodedImage Allocate(int width, int height, int bytesPerPixel, DecodeBudget budget)
    {
        var lease = budget.Acquire((long)width * height);
        try
        {
            var data = (byte*)NativeMemory.Alloc((nuint)((long)width * height * bytesPerPixel));
            return new DecodedImage(data, width, height, bytesPerPixel, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>The upright pixels as a managed image.</summary>
    /// <exception cref="ImageDecodeException">The image is too large for one <see cref="RgbImage"/>.</exception>
    public RgbImage ToRgbImage(string displayName)
    {
        if ((long)Width * Height * 3 > Array.MaxLength)
        {
            throw new ImageDecodeException(displayName,
                $"{Width}x{Height} is too large to return as one RgbImage; Preprocessor.Run(path, config) preprocesses it without one");
        }
        return View.ToRgbImage();
    }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.Free(_data);
        _data = null;
        _lease.Dispose();
    }
}
