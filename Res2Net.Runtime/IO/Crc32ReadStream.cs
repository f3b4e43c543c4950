using System.Buffers;
using System.IO.Compression;
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

    /// <summary>
    /// Reads the rest of <paramref name="entry"/> (whose stream this wraps) and compares its length and CRC-32 with what
    /// the zip directory records: what is wrong, to put in a message naming the file, or null when they agree. The CRC
    /// covers the whole entry, so bytes past those a reader needed are read (and hashed) too.
    /// </summary>
    public string? FindDamage(ZipArchiveEntry entry)
    {
        if (!ReadToEnd(entry.Length))
            return $"entry '{entry.FullName}' holds more than the {entry.Length} bytes the zip directory says; the file is corrupt";
        if (BytesRead != entry.Length)
            return $"entry '{entry.FullName}' ends after {BytesRead} bytes but the zip directory says {entry.Length}; the file is truncated or corrupt";
        if (Crc != entry.Crc32)
            return $"entry '{entry.FullName}' is damaged: its {entry.Length} bytes have CRC-32 {Crc:x8} but the zip directory records {entry.Crc32:x8}";
        return null;
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
