using System.Buffers.Binary;
using System.Text;
using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// safetensors written by Python (make_layouts.py) read to PyTorch's values, our writer reproduces Python's bytes,
/// and every way a header can lie is refused with the one checkpoint exception.
/// </summary>
public class SafetensorsTests
{
    [Fact]
    public void PythonWrittenFileHasPyTorchsValuesInEveryDType()
    {
        using var file = CheckpointFile.Open(new MemoryStream(SafetensorsSamples.Native), "sample.safetensors");
        Assert.Equal(CheckpointFormat.Safetensors, file.Format);
        Assert.Equal(StateDict.NoWrapper, file.Wrapper);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, file.Metadata);
        var stateDict = file.ReadAll();
        CheckpointAssert.HoldsTheSamples(stateDict);
    }

    [Fact]
    public void WriterReproducesPythonsBytesFromAPyTorchCheckpoint()
    {
        // The zip sample holds views, float64 and integer tensors; the default policy stores float64 as F32.
        var stateDict = CheckpointReader.Read(new MemoryStream(PyTorchSamples.ZipProtocol2), "sample.pth");
        using var output = new MemoryStream();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "float64 stored as F32" };
        long written = SafetensorsWriter.Write(output, stateDict.Tensors, metadata);
        Assert.Equal(output.Length, written);
        Assert.Equal(SafetensorsSamples.DefaultPolicy, output.ToArray());
    }

    [Fact]
    public void ExplicitDTypesRoundTrip()
    {
        var tensors = new[]
        {
            new CheckpointTensor("a", [2, 2], TensorDType.Float32, [1.5f, -2f, 1e-3f, 65504f]),
            new CheckpointTensor("b", [3], TensorDType.Float32, [1f / 3, 0.1f, -7f]),
            new CheckpointTensor("c", [], TensorDType.Int64, [123456f]),
        };
        var stored = new Dictionary<string, TensorDType> { ["a"] = TensorDType.Float16, ["b"] = TensorDType.Float64, ["c"] = TensorDType.Int64 };
        using var output = new MemoryStream();
        SafetensorsWriter.Write(output, tensors, storedDType: t => stored[t.Name]);
        output.Position = 0;
        using var file = CheckpointFile.Open(output, "roundtrip.safetensors");
        var back = file.ReadAll();
        Assert.Equal(TensorDType.Float16, back["a"].SourceDType);
        Assert.Equal([1.5f, -2f, (float)(Half)1e-3f, 65504f], back["a"].Data);
        Assert.Equal(TensorDType.Float64, back["b"].SourceDType);
        Assert.Equal(tensors[1].Data, back["b"].Data);
        Assert.Equal([123456f], back["c"].Data);
        Assert.Empty(back["c"].Shape);
        Assert.Empty(file.Metadata);

        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(new MemoryStream(), [new CheckpointTensor("i", [1], TensorDType.Int64, [0.5f])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(new MemoryStream(), [tensors[0], tensors[0]]));
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        Assert.Equal(0x3F80, SafetensorsWriter.SingleToBFloat16(1f));
        Assert.Equal(0x3F80, SafetensorsWriter.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie, even stays
        Assert.Equal(0x3F82, SafetensorsWriter.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie, odd rounds up
        Assert.Equal(0x3F81, SafetensorsWriter.SingleToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void AtomicFileWriteLeavesNoPartialFile()
    {
        string dir = TempFolders.Create("res2net-st-").FullName;
        string path = Path.Combine(dir, "out.safetensors");
        var bad = new CheckpointTensor("i", [1], TensorDType.Int64, [0.5f]);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [bad]));
        Assert.Empty(Directory.GetFiles(dir));
        SafetensorsWriter.Write(path, [new CheckpointTensor("w", [1], TensorDType.Float32, [2f])]);
        Assert.Equal(["out.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
        Assert.Equal([2f], CheckpointReader.Read(path)["w"].Data);
    }

    // --- format detection by content -----------------------------------------------------------------------

    [Theory]
    [InlineData(0x4B50)] // the size field starts with 'P' 'K', like a zip
    [InlineData(0x0180)] // the size field starts with 0x80, like a pickle
    public void SafetensorsIsRecognisedWhateverItsSizeFieldStartsWith(int headerSize)
    {
        string json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] file = Build(json.PadRight(headerSize), BitConverter.GetBytes(3f));
        Assert.Equal((byte)(headerSize & 0xFF), file[0]);
        var stateDict = CheckpointReader.Read(new MemoryStream(file), "odd.safetensors");
        Assert.Equal(CheckpointFormat.Safetensors, stateDict.Format);
        Assert.Equal([3f], stateDict["w"].Data);
    }

    [Fact]
    public void FormatComesFromTheContentNotTheName()
    {
        string dir = TempFolders.Create("res2net-st-").FullName;
        string misnamed = Path.Combine(dir, "really-a-zip.safetensors");
        File.WriteAllBytes(misnamed, PyTorchSamples.ZipProtocol2);
        Assert.Equal(CheckpointFormat.TorchZip, CheckpointReader.DetectFormat(misnamed));
        string legacy = Path.Combine(dir, "legacy.bin");
        File.WriteAllBytes(legacy, PyTorchSamples.LegacyProtocol2);
        Assert.Equal(CheckpointFormat.TorchLegacy, CheckpointReader.DetectFormat(legacy));
        string st = Path.Combine(dir, "weights.pth");
        File.WriteAllBytes(st, SafetensorsSamples.Native);
        Assert.Equal(CheckpointFormat.Safetensors, CheckpointReader.DetectFormat(st));
    }

    // --- hostile headers ------------------------------------------------------------------------------------

    private const string W = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    public static TheoryData<string, int, string> BadHeaders => new()
    {
        { "{" + W + ",\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 12, "overlaps" },
        { "{" + W + ",\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "gap" },
        { "{" + W + "}", 4, "reaches past the 4-byte data section" },
        { "{" + W + "}", 12, "data section has 12 bytes but its tensors cover 8" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "the end comes before the begin" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "expected a non-negative integer" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8, "expected a non-negative integer" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "no 'data_offsets' [begin, end] pair" },
        { "{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype 'C64'" },
        { "{\"conv.weight\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "tensor 'conv.weight' has dtype Int64; weights" },
        { "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "no string 'dtype'" },
        { "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536],\"data_offsets\":[0,8]}}", 8, "more elements than one array holds" },
        { "{\"w\":[1,2]}", 8, "is a JSON Array" },
        { "[1,2]", 8, "not a checkpoint this reader knows" },
        { "{\"__metadata__\":{\"epoch\":3}," + W + "}", 8, "'__metadata__' entry 'epoch' is a JSON Number; the format allows only strings" },
        { "{\"__metadata__\":[]," + W + "}", 8, "expected an object of strings" },
        { "{" + W + "," + W + "}", 8, "names 'w' twice" },
        { "{" + W, 8, "not valid JSON" },
        { "{\"a\":" + new string('[', 200) + new string(']', 200) + "," + W + "}", 8, "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void LyingHeadersAreRejected(string json, int dataBytes, string cause) =>
        CheckpointAssert.Fails(Build(json, new byte[dataBytes]), cause);

    [Fact]
    public void AbsurdHeaderSizesAreRejectedBeforeAllocating()
    {
        byte[] file = Build("{" + W + "}", new byte[8]);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue - 7);
        file[8] = (byte)'{';
        CheckpointAssert.Fails(file, "header size is 18446744073709551608 bytes, more than the format's limit");
        BinaryPrimitives.WriteUInt64LittleEndian(file, 50_000_000);
        CheckpointAssert.Fails(file, "header size is 50000000 bytes but the file has only");
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1);
        CheckpointAssert.Fails(file, "even an empty header needs 2");
    }

    [Fact]
    public void InvalidUtf8HeaderIsRejected()
    {
        byte[] file = Build("{\"w?\":1}", []);
        file[Array.IndexOf(file, (byte)'?')] = 0xFF;
        CheckpointAssert.Fails(file, "not valid UTF-8");
    }

    [Fact]
    public void TruncationAtEveryOffsetIsRejected()
    {
        byte[] whole = SafetensorsSamples.Native;
        for (int length = 1; length < whole.Length; length++)
            CheckpointAssert.Fails(whole[..length]);
    }

    [Fact]
    public void EmptyHeaderIsAnEmptyStateDict()
    {
        var stateDict = CheckpointReader.Read(new MemoryStream(Build("{}", [])), "empty.safetensors");
        Assert.Empty(stateDict);
    }

    /// <summary>A safetensors file from a header (padded with spaces to a multiple of 8 as writers do) and its data section.</summary>
    internal static byte[] Build(string json, byte[] data)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }
}
