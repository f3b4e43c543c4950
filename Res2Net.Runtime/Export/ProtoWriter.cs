using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Res2Net.Runtime.Export;

/// <summary>Protocol Buffers wire types (the low three bits of a field's tag).</summary>
internal enum WireType
{
    Varint = 0,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>
/// The Protocol Buffers wire format, as much of it as ONNX needs: varints (int64, int32, enums), fixed32
/// (float) and length-delimited fields (strings, bytes, nested messages). Writes through a buffer to a stream;
/// large payloads (tensor data) go to the stream directly.
/// </summary>
internal sealed class ProtoWriter
{
    private const int BufferSize = 1 << 16;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _used;

    public ProtoWriter(Stream stream)
    {
        _stream = stream;
    }

    private long _flushed;

    /// <summary>Bytes written so far (buffered or not).</summary>
    public long Position => _flushed + _used;

    /// <summary>A field's key: its number and wire type.</summary>
    public void Tag(int field, WireType type) => Varint(((ulong)(uint)field << 3) | (uint)type);

    /// <summary>Base-128 varint, 7 bits a byte, least significant group first.</summary>
    public void Varint(ulong value)
    {
        Reserve(10);
        while (value >= 0x80)
        {
            _buffer[_used++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_used++] = (byte)value;
    }

    /// <summary>Four little-endian bytes.</summary>
    public void Fixed32(uint value)
    {
        Reserve(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used, 4), value);
        _used += 4;
    }

    /// <summary>Raw bytes (the payload of a length-delimited field whose length was already written).</summary>
    public void Bytes(ReadOnlySpan<byte> data)
    {
        if (data.Length <= BufferSize - _used)
        {
            data.CopyTo(_buffer.AsSpan(_used));
            _used += data.Length;
            return;
        }
        Flush();
        if (data.Length < BufferSize)
        {
            data.CopyTo(_buffer);
            _used = data.Length;
            return;
        }
        _stream.Write(data);
        _flushed += data.Length;
    }

    /// <summary>Floats as little-endian IEEE 754 bytes (ONNX's <c>raw_data</c>).</summary>
    public void FloatsLittleEndian(ReadOnlySpan<float> data)
    {
        if (BitConverter.IsLittleEndian)
        {
            Bytes(MemoryMarshal.AsBytes(data));
            return;
        }
        foreach (float f in data) Fixed32(BitConverter.SingleToUInt32Bits(f));
    }

    /// <summary>Writes out what is buffered.</summary>
    public void Flush()
    {
        if (_used == 0) return;
        _stream.Write(_buffer, 0, _used);
        _flushed += _used;
        _used = 0;
    }

    /// <summary>Bytes a varint of <paramref name="value"/> takes: 1 to 10.</summary>
    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Bytes a field's key takes.</summary>
    public static int TagSize(int field) => VarintSize((ulong)(uint)field << 3);

    /// <summary>UTF-8 without a byte-order mark, as protobuf strings are.</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private void Reserve(int bytes)
    {
        if (BufferSize - _used < bytes) Flush();
    }
}
