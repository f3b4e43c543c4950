using System.Runtime.InteropServices;

namespace Res2Net.Runtime.Imaging;

/// <summary>A whole decoded image in one native buffer, seen upright through its EXIF orientation.</summary>
internal sealed unsafe class BufferedImage : DecodedImage
{
    private byte* _data;
    private readonly DecodeBudget.Lease _lease;
    private readonly int _storedWidth, _storedHeight, _bytesPerPixel;

    private BufferedImage(byte* data, int width, int height, int bytesPerPixel, DecodeBudget.Lease lease)
    {
        _data = data;
        _storedWidth = width;
        _storedHeight = height;
        _bytesPerPixel = bytesPerPixel;
        _lease = lease;
    }

    /// <summary>EXIF orientation 1..8, applied by <see cref="View"/>.</summary>
    public int Orientation { get; set; } = 1;

    /// <summary>The buffer: stored rows (before the orientation), 3 (RGB) or 4 (RGBA, alpha ignored) bytes a pixel.</summary>
    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(BufferedImage));

    /// <summary>The upright pixels.</summary>
    public PixelView View => PixelView.Oriented(Data, _storedWidth, _storedHeight, _bytesPerPixel, Orientation);

    public override int Width => Orientation >= 5 ? _storedHeight : _storedWidth;

    public override int Height => Orientation >= 5 ? _storedWidth : _storedHeight;

    public override long StepX => View.StepX;

    public override byte* Row(int y) => View.Row(y);

    /// <summary>
    /// Takes <paramref name="width"/> x <paramref name="height"/> pixels from <paramref name="budget"/> (waiting while other
    /// decodes hold too much of it), then allocates them.
    /// </summary>
    public static BufferedImage Allocate(int width, int height, int bytesPerPixel, DecodeBudget budget)
    {
        var lease = budget.Acquire((long)width * height);
        try
        {
            var data = (byte*)NativeMemory.Alloc((nuint)((long)width * height * bytesPerPixel));
            return new BufferedImage(data, width, height, bytesPerPixel, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    public override void Dispose()
    {
        if (_data == null) return;
        NativeMemory.Free(_data);
        _data = null;
        _lease.Dispose();
    }
}
