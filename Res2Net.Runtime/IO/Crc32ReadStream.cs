using System.Buffers;
using System.IO.Hashing;

namespace Res2Net.Runtime.IO;

/// <summary>
/// Passes a stream's bytes through while computing their CRC-32 (zip's checksum), so an entry is checked in the
/// same pass that reads it. <see cref="System.IO.Compression.ZipArchive"/> itself never compares an entry's CRC when reading (.NET 10.0).
/// </summary>
/// <remarks>
/// A large read is served in pieces of <see cref="Piece"/> bytes, each hashed right after it arrives, while it is
/// still in the core's cache: hashing a whole 40 MB tensor after reading it would fetch it from memory a second time.
/// </remarks>
internal sealed class Crc32ReadStream(Stream inner) : Stream
{
    private const int Piece = 256 * 1024;

    private readonly Crc32 _crc = new();

    /// <summary>CRC-32 of every byte delivered so far.</summary>
    public uint Crc => _crc.GetCurrentHashAsUInt32();

    /// <summary>Bytes delivered so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Reads and hashes what is left, but at most <paramref name="limit"/> bytes in all (so a deflated entry that
    /// inflates without end is not followed); true when the stream ended within the limit.
    /// </summary>
    public bool ReadToEnd(long limit)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (BytesRead <= limit)
            {
                int want = (int)Math.Min(scratch.Length, limit - BytesRead + 1);
                if (Read(scratch, 0, want) == 0) return true;
            }
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        int got = inner.Read(buffer[..Math.Min(buffer.Length, Piece)]);
        _crc.Append(buffer[..got]);
        BytesRead += got;
        return got;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
