namespace Res2Net.Runtime.Export;

/// <summary>
/// A protobuf message under construction: its fields in order, each a scalar, a string, a float payload or a
/// nested message. Sizes are computed before anything is written, so a message of any size (a 200 MB model)
/// streams straight to its output, the tensor data read from the arrays it already lives in, never copied.
/// Build bottom-up: a nested message must be complete before it is added.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly List<Field> _fields = new();
    private long _size = -1;

    /// <summary>An int64, int32 or enum field (varint; negative values take ten bytes, as protobuf's int64 does).</summary>
    public ProtoMessage Int(int field, long value)
    {
        Add(new Field(field, WireType.Varint, (ulong)value, null, null, null));
        return this;
    }

    /// <summary>Each value as its own varint field: a proto2 <c>repeated int64</c> (not packed).</summary>
    public ProtoMessage Ints(int field, IEnumerable<long> values)
    {
        foreach (long v in values) Int(field, v);
        return this;
    }

    /// <summary>A float field (fixed32).</summary>
    public ProtoMessage Float(int field, float value)
    {
        Add(new Field(field, WireType.Fixed32, BitConverter.SingleToUInt32Bits(value), null, null, null));
        return this;
    }

    /// <summary>A string field, UTF-8.</summary>
    public ProtoMessage String(int field, string value)
    {
        Add(new Field(field, WireType.LengthDelimited, 0, ProtoWriter.Utf8(value), null, null));
        return this;
    }

    /// <summary>A bytes field holding <paramref name="values"/> as little-endian floats (ONNX's <c>raw_data</c>).</summary>
    public ProtoMessage FloatBytes(int field, float[] values)
    {
        Add(new Field(field, WireType.LengthDelimited, 0, null, values, null));
        return this;
    }

    /// <summary>A nested message.</summary>
    public ProtoMessage Message(int field, ProtoMessage message)
    {
        Add(new Field(field, WireType.LengthDelimited, 0, null, null, message));
        return this;
    }

    /// <summary>The encoded size in bytes (without an enclosing tag or length).</summary>
    public long Size
    {
        get
        {
            if (_size >= 0) return _size;
            long size = 0;
            foreach (var f in _fields)
            {
                size += ProtoWriter.TagSize(f.Number);
                switch (f.Type)
                {
                    case WireType.Varint:
                        size += ProtoWriter.VarintSize(f.Scalar);
                        break;
                    case WireType.Fixed32:
                        size += 4;
                        break;
                    default:
                        long payload = f.PayloadLength;
                        size += ProtoWriter.VarintSize((ulong)payload) + payload;
                        break;
                }
            }
            _size = size;
            return size;
        }
    }

    /// <summary>Writes the fields in the order they were added.</summary>
    public void WriteTo(ProtoWriter writer)
    {
        foreach (var f in _fields)
        {
            writer.Tag(f.Number, f.Type);
            switch (f.Type)
            {
                case WireType.Varint:
                    writer.Varint(f.Scalar);
                    break;
                case WireType.Fixed32:
                    writer.Fixed32((uint)f.Scalar);
                    break;
                default:
                    writer.Varint((ulong)f.PayloadLength);
                    if (f.Bytes != null) writer.Bytes(f.Bytes);
                    else if (f.Floats != null) writer.FloatsLittleEndian(f.Floats);
                    else f.Message!.WriteTo(writer);
                    break;
            }
        }
    }

    private void Add(Field field)
    {
        if (field.Number < 1 || field.Number > (1 << 29) - 1) throw new ArgumentOutOfRangeException(nameof(field), field.Number, "protobuf field numbers are 1 to 2^29 - 1");
        _fields.Add(field);
        _size = -1;
    }

    private readonly record struct Field(int Number, WireType Type, ulong Scalar, byte[]? Bytes, float[]? Floats, ProtoMessage? Message)
    {
        public long PayloadLength => Bytes?.LongLength ?? (Floats != null ? 4L * Floats.LongLength : Message!.Size);
    }
}
