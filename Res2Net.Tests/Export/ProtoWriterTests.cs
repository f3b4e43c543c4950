using Res2Net.Runtime.Export;
using Xunit;

namespace Res2Net.Tests.Export;

/// <summary>The protobuf encoding, byte for byte, on the examples of protobuf's encoding guide.</summary>
public class ProtoWriterTests
{
    private static byte[] Encode(ProtoMessage message)
    {
        using var stream = new MemoryStream();
        var writer = new ProtoWriter(stream);
        message.WriteTo(writer);
        writer.Flush();
        Assert.Equal(message.Size, stream.Length);
        Assert.Equal(stream.Length, writer.Position);
        return stream.ToArray();
    }

    [Fact]
    public void VarintsAreSevenBitGroupsLeastSignificantFirst()
    {
        Assert.Equal(new byte[] { 0x08, 0x96, 0x01 }, Encode(new ProtoMessage().Int(1, 150)));
        Assert.Equal(new byte[] { 0x18, 0xAC, 0x02 }, Encode(new ProtoMessage().Int(3, 300)));
        // A negative int64 is its two's complement: ten bytes.
        Assert.Equal(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, Encode(new ProtoMessage().Int(1, -1)));
        // Field 20 (AttributeProto.type) needs a two-byte key.
        Assert.Equal(new byte[] { 0xA0, 0x01, 0x07 }, Encode(new ProtoMessage().Int(20, 7)));
    }

    [Fact]
    public void StringsFloatsAndNestedMessagesAreLengthDelimited()
    {
        Assert.Equal(new byte[] { 0x12, 0x07, (byte)'t', (byte)'e', (byte)'s', (byte)'t', (byte)'i', (byte)'n', (byte)'g' },
            Encode(new ProtoMessage().String(2, "testing")));
        Assert.Equal(new byte[] { 0x1A, 0x03, 0x08, 0x96, 0x01 }, Encode(new ProtoMessage().Message(3, new ProtoMessage().Int(1, 150))));
        Assert.Equal(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F }, Encode(new ProtoMessage().Float(2, 1f)));
        Assert.Equal(new byte[] { 0x4A, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0 }, Encode(new ProtoMessage().FloatBytes(9, new[] { 1f, -2f })));
    }

    [Fact]
    public void PayloadsLargerThanTheBufferStreamThrough()
    {
        var data = Enumerable.Range(0, 100_000).Select(i => (float)i).ToArray();
        var bytes = Encode(new ProtoMessage().String(1, "w").FloatBytes(9, data).Int(2, 1));
        // key, length 400000 as a 3-byte varint, then the floats.
        Assert.Equal(new byte[] { 0x4A, 0x80, 0xB5, 0x18 }, bytes[3..7]);
        Assert.Equal(99_999f, BitConverter.ToSingle(bytes, 7 + 4 * 99_999));
        Assert.Equal(new byte[] { 0x10, 0x01 }, bytes[^2..]);
    }
}
