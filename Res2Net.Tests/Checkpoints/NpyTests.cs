using System.Buffers.Binary;
using System.Text;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>.npy reading and writing, checked against files numpy wrote (the fixtures) and hand-made headers.</summary>
public class NpyTests
{
    internal static byte[] NpyBytes(string dict, byte[] data, byte major = 1)
    {
        var header = Encoding.Latin1.GetBytes(dict + "\n");
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        var length = new byte[major == 1 ? 2 : 4];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        bytes.AddRange(length);
        bytes.AddRange(header);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static (float[] Data, int[] Shape) Read(byte[] bytes) => Npy.Read(new MemoryStream(bytes), "x.npy");

    private static NpyException Fails(byte[] bytes, string message)
    {
        var error = Assert.Throws<NpyException>(() => Read(bytes));
        Assert.StartsWith("x.npy: ", error.Message);
        Assert.Contains(message, error.Message);
        return error;
    }

    public static TheoryData<int[]> Shapes => new() { Array.Empty<int>(), new[] { 0 }, new[] { 5 }, new[] { 2, 3 }, new[] { 2, 3, 4, 5 }, new[] { 3, 0, 2 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WriteThenReadRoundTrips(int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var random = new Random(shape.Length);
        float[] data = Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() * 100 - 50).ToArray();
        using var stream = new MemoryStream();
        Npy.Write(stream, data, shape);
        // numpy aligns the data to 64 bytes.
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(stream.GetBuffer().AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);

        var (readData, readShape) = Npy.Read(new MemoryStream(stream.ToArray()), "round-trip.npy");
        Assert.Equal(shape, readShape);
        Assert.Equal(data, readData);
    }

    [Theory]
    [InlineData("tiny-plain.input.npy")]
    [InlineData("tiny-plain.logits.npy")]
    [InlineData("tiny-plain.stage1.npy")]
    [InlineData("tiny-deep.stem.npy")]
    [InlineData("tiny-deep.stage4.npy")]
    public void WriterReproducesNumpyFilesByteForByte(string fixture)
    {
        byte[] original = File.ReadAllBytes(FixtureFiles.Path(fixture));
        var (data, shape) = Npy.Read(FixtureFiles.Path(fixture));
        using var stream = new MemoryStream();
        Npy.Write(stream, data, shape);
        Assert.Equal(original, stream.ToArray());
    }

    [Theory]
    [InlineData("tiny-plain", 4)]
    [InlineData("tiny-deep", 4)]
    public void FixtureActivationsHaveBatchTwo(string network, int rank)
    {
        var (input, inputShape) = Npy.Read(FixtureFiles.Path(network + ".input.npy"));
        Assert.Equal(rank, inputShape.Length);
        Assert.Equal(2, inputShape[0]);
        Assert.Equal(3, inputShape[1]);
        Assert.Equal(inputShape.Aggregate(1L, (a, b) => a * b), input.LongLength);
        Assert.All(input, v => Assert.True(float.IsFinite(v)));

        var (logits, logitsShape) = Npy.Read(FixtureFiles.Path(network + ".logits.npy"));
        Assert.Equal(2, logitsShape.Length);
        Assert.Equal(2, logitsShape[0]);
        Assert.Equal(logitsShape[0] * logitsShape[1], logits.Length);

        for (int stage = 1; stage <= 4; stage++)
        {
            var (_, stageShape) = Npy.Read(FixtureFiles.Path($"{network}.stage{stage}.npy"));
            Assert.Equal(4, stageShape.Length);
            Assert.Equal(2, stageShape[0]);
        }
    }

    [Fact]
    public void WriteToPathAndReadFromPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"res2net-npy-{Guid.NewGuid()}.npy");
        try
        {
            Npy.Write(path, [1f, 2f, 3f, 4f, 5f, 6f], [3, 2]);
            var (data, shape) = Npy.Read(path);
            Assert.Equal([3, 2], shape);
            Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WriteRejectsAShapeThatDoesNotMatchTheData()
    {
        Assert.Throws<ArgumentException>(() => Npy.Write(new MemoryStream(), [1f, 2f], [3]));
        Assert.Throws<ArgumentException>(() => Npy.Write(new MemoryStream(), [], [-1]));
    }

    [Theory]
    [InlineData((byte)2)]
    [InlineData((byte)3)]
    public void LaterHeaderVersionsAreRead(byte major)
    {
        var bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", CheckpointZip.Floats(1.5f, -2f), major);
        var (data, shape) = Read(bytes);
        Assert.Equal([2], shape);
        Assert.Equal([1.5f, -2f], data);
    }

    [Fact]
    public void OtherNumericTypesAreConvertedToFloat32()
    {
        var f8 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f8, 1.0 / 3);
        BinaryPrimitives.WriteDoubleLittleEndian(f8.AsSpan(8), -1e300);
        Assert.Equal([(float)(1.0 / 3), float.NegativeInfinity], Read(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", f8)).Data);

        var f2 = new byte[4];
        BinaryPrimitives.WriteHalfLittleEndian(f2, (Half)0.1f);
        BinaryPrimitives.WriteHalfLittleEndian(f2.AsSpan(2), (Half)(-3f));
        Assert.Equal([(float)(Half)0.1f, -3f], Read(NpyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}", f2)).Data);

        var i8 = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(i8, 1234);
        BinaryPrimitives.WriteInt64LittleEndian(i8.AsSpan(8), -7);
        var (data, shape) = Read(NpyBytes("{\"descr\": \"<i8\", \"shape\": (1, 2), \"fortran_order\": False}", i8));
        Assert.Equal([1, 2], shape);
        Assert.Equal([1234f, -7f], data);
    }

    [Theory]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", "descr: dtype '<i4' not supported; expected float32 '<f4'")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "dtype '>f4' not supported")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "descr: structured")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "fortran_order: True is not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [1], }", "shape: missing or not a tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "shape: dimension 0 is not a non-negative integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", "shape: (100000, 100000, 100000) holds more elements")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "shape: missing")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "header: expected ',' or '}' in dict")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "unexpected text after")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "out of range")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested deeper")]
    public void BadHeadersNameTheField(string dict, string message)
    {
        Fails(NpyBytes(dict, new byte[4]), message);
    }

    [Fact]
    public void TruncatedDataIsReported()
    {
        Fails(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[8]), "data: shape (3) of '<f4' needs 12 bytes but the file holds only 8");
    }

    [Fact]
    public void BadMagicAndVersionAreReported()
    {
        Fails("not numpy at all"u8.ToArray(), "magic: not a .npy file");
        Fails([], "magic");
        var bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new byte[4]);
        bytes[6] = 4;
        Fails(bytes, "version: format version 4.0 not supported");
    }

    [Fact]
    public void HugeHeaderLengthIsRefusedBeforeReading()
    {
        var bytes = new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0xff, 0xff, 0xff, 0xff, (byte)'{' };
        Fails(bytes, "header: header claims 4294967295 bytes");
        bytes = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xff, 0x0f, (byte)'{'];
        Fails(bytes, "file ends after 1 of the header's 4095 bytes");
    }

    [Fact]
    public void MissingFileIsAnNpyException()
    {
        var error = Assert.Throws<NpyException>(() => Npy.Read("/nonexistent/res2net/x.npy"));
        Assert.StartsWith("/nonexistent/res2net/x.npy: file: cannot open", error.Message);
    }
}
