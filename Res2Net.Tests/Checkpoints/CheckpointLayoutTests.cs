using System.Buffers.Binary;
using System.IO.Compression;
using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>The zip layout, wrapper detection, and the checks between the pickle and the storage entries.</summary>
public class CheckpointLayoutTests
{
    private static readonly byte[] TinyPlain = File.ReadAllBytes(FixtureFiles.Path("tiny-plain.pth"));

    private static (string, string, string, long, long, int[], int[]) Floats(string name, string key, int numel, int offset, int[] size, int[] stride) =>
        (name, "FloatStorage", key, numel, offset, size, stride);

    [Fact]
    public void WrapperIsDetected()
    {
        var storages = new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(1, 2, 3) };
        var wrapped = PickleBuilder.StateDict(true, Floats("w", "0", 3, 0, [3], [1]));
        var bare = PickleBuilder.StateDict(false, Floats("w", "0", 3, 0, [3], [1]));

        Assert.Equal("state_dict", CheckpointReader.Read(new MemoryStream(CheckpointZip.Build(wrapped, storages)), "a.pth").Wrapper);
        Assert.Equal("none", CheckpointReader.Read(new MemoryStream(CheckpointZip.Build(bare, storages)), "b.pth").Wrapper);
    }

    [Fact]
    public void ArchiveFolderIsWhateverTheFileWasCalledWhenSaved()
    {
        var storages = new Dictionary<string, byte[]> { ["7"] = CheckpointZip.Floats(5) };
        var pickle = PickleBuilder.StateDict(false, Floats("x", "7", 1, 0, [], []));
        var zip = CheckpointZip.Build(pickle, storages, archive: "renamed file (copy)");
        var tensor = CheckpointReader.Read(new MemoryStream(zip), "a.pth")["x"];
        Assert.Equal([5f], tensor.Data);
        Assert.Empty(tensor.Shape);
    }

    [Fact]
    public void DeflatedEntriesAreReadToo()
    {
        var storages = new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray()) };
        var pickle = PickleBuilder.StateDict(true, Floats("w", "0", 1000, 0, [10, 100], [100, 1]));
        var zip = CheckpointZip.Build(pickle, storages, level: CompressionLevel.Optimal);
        var tensor = CheckpointReader.Read(new MemoryStream(zip), "a.pth")["w"];
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (float)i), tensor.Data);
    }

    [Fact]
    public void StridedViewsAreGatheredInRowMajorOrder()
    {
        // Storage 0..11 viewed as a 3x2 transposed-with-offset window: rows step 1, columns step 4, starting at 1.
        var storages = new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(Enumerable.Range(0, 12).Select(i => (float)i).ToArray()) };
        var pickle = PickleBuilder.StateDict(false,
            Floats("window", "0", 12, 1, [3, 2], [1, 4]),
            Floats("column", "0", 12, 2, [3], [4]),
            Floats("broadcastable", "0", 12, 0, [1, 3], [7, 1]));
        var stateDict = CheckpointReader.Read(new MemoryStream(CheckpointZip.Build(pickle, storages)), "a.pth");
        Assert.Equal([1f, 5f, 2f, 6f, 3f, 7f], stateDict["window"].Data);
        Assert.Equal([2f, 6f, 10f], stateDict["column"].Data);
        Assert.Equal([0f, 1f, 2f], stateDict["broadcastable"].Data);
    }

    [Fact]
    public void BigEndianStoragesAreSwapped()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4), -2f);
        var pickle = PickleBuilder.StateDict(false, Floats("w", "0", 2, 0, [2], [1]));
        var zip = CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = data }, byteOrder: "big");
        Assert.Equal([1.5f, -2f], CheckpointReader.Read(new MemoryStream(zip), "a.pth")["w"].Data);
    }

    [Fact]
    public void UnknownByteOrderIsRejected()
    {
        var pickle = PickleBuilder.StateDict(false, Floats("w", "0", 1, 0, [1], [1]));
        var zip = CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[4] }, byteOrder: "middle");
        CheckpointAssert.Fails(zip, "byteorder' says 'middle'; expected 'little' or 'big'");
    }

    [Fact]
    public void StorageEntryShorterThanDeclaredIsRejectedNamingTheTensor()
    {
        // Storage "0" of the real checkpoint holds backbone.conv1.weight; cut it in half.
        byte[] zip = CheckpointZip.Rewrite(TinyPlain, (name, bytes) => name.EndsWith("/data/0", StringComparison.Ordinal) ? bytes[..(bytes.Length / 2)] : bytes);
        CheckpointAssert.Fails(zip, "tensor 'backbone.conv1.weight'", "storage '0' holds", "truncated or corrupt");
    }

    [Fact]
    public void ViewReachingPastItsStorageIsRejected()
    {
        var pickle = PickleBuilder.StateDict(false, Floats("w", "0", 4, 2, [2, 2], [2, 1]));
        var zip = CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[16] });
        CheckpointAssert.Fails(zip, "reaches element 5 but storage '0' declares only 4 elements");
    }

    [Theory]
    [InlineData(new[] { 3 }, new[] { 0 }, "repeats storage elements")]
    [InlineData(new[] { 2, 2 }, new[] { 1, 1 }, "repeats storage elements")]
    [InlineData(new[] { 4 }, new[] { -1 }, "stride[0] = -1 is negative")]
    [InlineData(new[] { -4 }, new[] { 1 }, "size[0] = -4 out of range")]
    [InlineData(new[] { 2, 2 }, new[] { 1 }, "size has 2 dimensions but stride has 1")]
    [InlineData(new[] { 65536, 65536, 65536 }, new[] { 1, 1, 1 }, "too many for one array")]
    [InlineData(new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new[] { int.MaxValue, int.MaxValue, int.MaxValue }, "overflows")]
    public void ImpossibleViewsAreRejected(int[] size, int[] stride, string cause)
    {
        var pickle = PickleBuilder.StateDict(false, Floats("w", "0", 16, 0, size, stride));
        CheckpointAssert.Fails(CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[64] }), "tensor", cause);
    }

    [Fact]
    public void TooManyDimensionsAreRejected()
    {
        var ones = Enumerable.Repeat(1, 65).ToArray();
        var pickle = PickleBuilder.StateDict(false, Floats("w", "0", 1, 0, ones, ones));
        CheckpointAssert.Fails(CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[4] }), "65 dimensions");
    }

    [Fact]
    public void StorageClaimingMoreThanAnArrayIsRejectedBeforeReading()
    {
        var pickle = PickleBuilder.StateDict(false, ("w", "DoubleStorage", "0", long.MaxValue / 4, 0L, new[] { 1 }, new[] { 1 }));
        CheckpointAssert.Fails(CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[8] }), "which no single array can hold");
    }

    [Fact]
    public void MissingStorageEntryIsNamed()
    {
        byte[] zip = CheckpointZip.Rewrite(TinyPlain, (name, bytes) => name.EndsWith("/data/3", StringComparison.Ordinal) ? null : bytes);
        CheckpointAssert.Fails(zip, "storage '3' is referenced by the pickle but the archive has no entry 'tiny-plain/data/3'");
    }

    [Fact]
    public void UnsupportedStorageTypeIsNamed()
    {
        var pickle = PickleBuilder.StateDict(false, ("w", "ComplexFloatStorage", "0", 1L, 0L, new[] { 1 }, new[] { 1 }));
        CheckpointAssert.Fails(CheckpointZip.Build(pickle), "'torch.ComplexFloatStorage' is refused", "storage type not supported");
    }

    [Fact]
    public void IntegerWeightsAreRejected()
    {
        var pickle = PickleBuilder.StateDict(false, ("conv.weight", "IntStorage", "0", 1L, 0L, new[] { 1 }, new[] { 1 }));
        CheckpointAssert.Fails(CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[4] }),
            "tensor 'conv.weight' has dtype Int32; weights and BN statistics must be floating point");
    }

    [Fact]
    public void NonTensorEntryIsNamed()
    {
        var pickle = new PickleBuilder().Proto().OrderedDict().Mark()
            .Str("conv.weight").Int(5)
            .Op('u').Stop().ToArray();
        // A dict whose values are not all tensors and has no 'state_dict' key is not a state dict at all.
        CheckpointAssert.PickleFails(pickle, "no state dict found", "'conv.weight'");

        var wrapped = new PickleBuilder().Proto().Op('}').Str("state_dict").OrderedDict()
            .Str("conv.weight").Int(5).Op('s').Op('s').Stop().ToArray();
        CheckpointAssert.PickleFails(wrapped, "'state_dict' entry 'conv.weight' is of type int, not a tensor");
    }

    [Fact]
    public void NonStringKeyIsNamed()
    {
        var pickle = new PickleBuilder().Proto().Op('}').Str("state_dict").Op('}').Int(7).Op('}').Op('s').Op('s').Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "has a key of type int (7); expected str");
    }

    [Fact]
    public void MissingStateDictListsTheTopLevelKeys()
    {
        var pickle = new PickleBuilder().Proto().Op('}').Mark().Str("meta").Op('}').Str("ema").Op('}').Str("optimizer").Op('N').Op('u').Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "no state dict found: top-level dict has keys ['meta', 'ema', 'optimizer']", "'state_dict' or 'model' key");
    }

    [Fact]
    public void ModelWrapperIsFoundAndMustBeAMapping()
    {
        var storages = new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(1) };
        var pickle = new PickleBuilder().Proto().Op('}').Mark().Str("epoch").Int(3)
            .Str("model").OrderedDict().Str("fc.weight").Tensor("FloatStorage", "0", 1, 0, [1], [1]).Op('s').Op('u').Stop().ToArray();
        var stateDict = CheckpointReader.Read(new MemoryStream(CheckpointZip.Build(pickle, storages)), "m.pth");
        Assert.Equal(StateDict.ModelWrapper, stateDict.Wrapper);
        Assert.Equal(["fc.weight"], stateDict.Keys);

        var notMapping = new PickleBuilder().Proto().Op('}').Str("model").Op(']').Op('s').Stop().ToArray();
        CheckpointAssert.PickleFails(notMapping, "'model' is of type list; expected a mapping");
    }

    [Fact]
    public void StateDictOfTheWrongTypeIsNamed()
    {
        var pickle = new PickleBuilder().Proto().Op('}').Str("state_dict").Op(']').Op('s').Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "'state_dict' is of type list; expected a mapping");
    }

    [Fact]
    public void MetadataAttributeIsIgnoredButOtherAttributesAreNot()
    {
        var storages = new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(1) };
        byte[] WithAttribute(string attribute) => new PickleBuilder().Proto().OrderedDict()
            .Str("w").Tensor("FloatStorage", "0", 1, 0, [1], [1]).Op('s')
            .Op('}').Str(attribute).OrderedDict().Op('s').Op('b').Stop().ToArray();

        var stateDict = CheckpointReader.Read(new MemoryStream(CheckpointZip.Build(WithAttribute("_metadata"), storages)), "a.pth");
        Assert.Equal(["w"], stateDict.Keys);
        CheckpointAssert.Fails(CheckpointZip.Build(WithAttribute("surprise"), storages), "unexpected attributes ['surprise']");
    }

    [Fact]
    public void NotAZipIsExplained()
    {
        CheckpointAssert.Fails("hello, world"u8.ToArray(), "not a checkpoint this reader knows", "68656c6c6f2c2077", "'PK'", "legacy format", "safetensors");
    }

    [Fact]
    public void EmptyFileIsExplained() => CheckpointAssert.Fails([], "file is empty");

    [Fact]
    public void CorruptZipIsWrapped()
    {
        CheckpointAssert.Fails(TinyPlain[..(TinyPlain.Length - 30)], "corrupt or truncated zip archive");
        CheckpointAssert.Fails("PK\u0003\u0004 but nothing else"u8.ToArray(), "corrupt or truncated zip archive");
    }

    [Fact]
    public void ZipWithoutPickleListsItsEntries()
    {
        CheckpointAssert.Fails(File.ReadAllBytes(FixtureFiles.Path("tiny-plain.state_dict.npz")),
            "no <archive>/data.pkl entry", "backbone.conv1.weight.npy");
    }

    [Fact]
    public void TorchScriptArchiveIsRecognised()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("model/constants.pkl");
            zip.CreateEntry("model/code/__torch__.py");
        }
        CheckpointAssert.Fails(memory.ToArray(), "TorchScript archive");
    }

    [Fact]
    public void SeveralPicklesAreAmbiguous()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("a/data.pkl");
            zip.CreateEntry("b/data.pkl");
        }
        CheckpointAssert.Fails(memory.ToArray(), "several pickles");
    }

    [Fact]
    public void PlainPickleIsNotALegacyCheckpoint()
    {
        var pickle = new PickleBuilder().Proto().Op('}').Stop().ToArray();
        CheckpointAssert.Fails(pickle, "first object is dict, not torch's magic number");
    }

    [Fact]
    public void LegacyFileWithLyingStorageCountIsRejected()
    {
        // The last storage of the legacy sample claims one element more than the file holds.
        byte[] legacy = PyTorchSamples.LegacyProtocol2;
        byte[] cut = legacy[..^1];
        CheckpointAssert.Fails(cut, "legacy storage", "truncated or corrupt");
    }

    [Fact]
    public void MissingFileIsACheckpointException()
    {
        string path = Path.Combine(Path.GetTempPath(), "res2net-no-such-checkpoint-" + Guid.NewGuid() + ".pth");
        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Read(path));
        Assert.Equal(path, error.FilePath);
        Assert.StartsWith(path + ": cannot open checkpoint", error.Message);
    }

    [Fact]
    public void StateDictRejectsDuplicateNamesAndMissingKeysAreNamed()
    {
        var tensor = new CheckpointTensor("a", [1], TensorDType.Float32, [1f]);
        Assert.Throws<ArgumentException>(() => new StateDict([tensor, tensor], "x.pth", "none"));
        var stateDict = new StateDict([tensor], "x.pth", "none");
        var error = Assert.Throws<KeyNotFoundException>(() => stateDict["b"]);
        Assert.Contains("x.pth", error.Message);
        Assert.Throws<ArgumentException>(() => new CheckpointTensor("a", [2, 2], TensorDType.Float32, [1f]));
    }
}
