using System.Runtime.InteropServices;
using SkiaSharp;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Rows decoded on demand, a few dozen at a time, for JPEGs without an EXIF rotation: the resize reads each source row
/// once, in order, so the whole image never needs to exist. Rows above the ones the crop needs are skipped and rows
/// below it are never decoded. Skia's scanline decoding runs the same libjpeg-turbo row reader as a whole-image decode,
/// so the pixels are the same. (Skia 4.155's PNG decoder answers Unimplemented to scanline decoding.)
/// </summary>
internal sealed unsafe class ScanlineImage : DecodedImage
{
    private const int ChunkRows = 32;

    private readonly SKData _data;
    private readonly SKCodec _codec;
    private readonly DecodeBudget.Lease _lease;
    private readonly string _displayName;
    private readonly int _width, _height, _rowBytes;
    private byte* _chunk;
    private int _chunkStart, _chunkCount, _next;

    private ScanlineImage(SKData data, SKCodec codec, DecodeBudget.Lease lease, string displayName, int width, int height)
    {
        _data = data;
        _codec = codec;
        _lease = lease;
        _displayName = displayName;
        _width = width;
        _height = height;
        _rowBytes = width * 4;
        _chunk = (byte*)NativeMemory.Alloc((nuint)((long)_rowBytes * Math.Min(ChunkRows, height)));
    }

    public override int Width => _width;

    public override int Height => _height;

    public override long StepX => 4;

    /// <summary>
    /// Starts decoding rows of <paramref name="codec"/>, which (with <paramref name="data"/>) the result then owns; null,
    /// owning nothing, when the codec cannot hand out rows top-down. <paramref name="heldPixels"/> is taken from the budget
    /// for the decoder's own buffers (a progressive JPEG keeps every coefficient of the image inside libjpeg).
    /// </summary>
    public static ScanlineImage? TryStart(SKData data, SKCodec codec, SKImageInfo info, string displayName, DecodeBudget budget, long heldPixels)
    {
        var lease = budget.Acquire(heldPixels);
        try
        {
            if (codec.StartScanlineDecode(info) != SKCodecResult.Success || codec.ScanlineOrder != SKCodecScanlineOrder.TopDown)
            {
                lease.Dispose();
                return null;
            }
            return new ScanlineImage(data, codec, lease, displayName, info.Width, info.Height);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    public override byte* Row(int y)
    {
        if (_chunk == null) throw new ObjectDisposedException(nameof(ScanlineImage));
        if (y < _chunkStart)
            throw new InvalidOperationException($"row {y} was asked for after row {_chunkStart}: rows stream top-down");
        if (y >= _chunkStart + _chunkCount)
        {
            if (y > _next && !_codec.SkipScanlines(y - _next))
                throw new ImageDecodeException(_displayName, $"the {_codec.EncodedFormat} data ends early (the file is truncated)");
            _next = y;
            int count = Math.Min(ChunkRows, _height - y);
            int decoded = _codec.GetScanlines((IntPtr)_chunk, count, _rowBytes);
            if (decoded != count)
                throw new ImageDecodeException(_displayName, $"the {_codec.EncodedFormat} data ends early (the file is truncated)");
            _chunkStart = y;
            _chunkCount = count;
            _next = y + count;
        }
        return _chunk + (long)(y - _chunkStart) * _rowBytes;
    }

    public override void Dispose()
    {
        if (_chunk == null) return;
        NativeMemory.Free(_chunk);
        _chunk = null;
        _codec.Dispose();
        _data.Dispose();
        _lease.Dispose();
    }
}
