using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// torch.save stores every zip entry with the CRC-32 of its bytes. A flipped bit inside a tensor's data leaves the
/// archive well-formed, so only the CRC can tell; the load must then fail naming the entry, never return the damaged
/// weights. The CRCs the messages quote come from the archive's directory (expected) and from a bit-by-bit reference
/// CRC of the damaged bytes (found).
/// </summary>
public class ZipCrcTests
{
    private const string Name = "damaged.pth";

    public static TheoryData<string, string> TensorEntries => new()
    {
        // float32, contiguous: copied straight from the entry into the tensor's array.
        { "tiny-plain.pth", "tiny-plain/data/0" },
        // float16: read as bytes, then widened.
        { "tiny-plain.fp16.pth", "tiny-plain.fp16/data/0" },
        // the pickle itself
        { "tiny-plain.pth", "tiny-plain/data.pkl" },
    };

    [Theory]
    [MemberData(nameof(TensorEntries))]
    public void FlippedByteFailsNamingTheEntryAndBothCrcs(string fixture, string entry)
    {
        byte[] file = File.ReadAllBytes(FixtureFiles.Path(fixture));
        var (offset, length, expectedCrc) = ZipEntryBytes.Locate(file, entry);
        Assert.Equal(expectedCrc, ZipEntryBytes.Crc32(file.AsSpan(offset, length))); // the reference agrees with torch's writer
        // In the pickle, a byte of the first key (a 'backbone.' letter): the archive stays a valid pickle, one key renamed.
        int at = entry.EndsWith("data.pkl", StringComparison.Ordinal)
            ? offset + file.AsSpan(offset, length).IndexOf("backbone."u8) + 2
            : offset + length / 2;
        file[at] ^= 0x10;
        uint foundCrc = ZipEntryBytes.Crc32(file.AsSpan(offset, length));

        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Read(new MemoryStream(file, writable: false), Name));

        Assert.Equal(Name, error.FilePath);
        Assert.Contains($"'{entry}'", error.Message);
        Assert.Contains($"CRC-32 {foundCrc:x8}", error.Message);
        Assert.Contains($"directory records {expectedCrc:x8}", error.Message);
    }

    [Theory]
    [InlineData("tiny-plain.pth")]
    [InlineData("tiny-plain.fp16.pth")]
    [InlineData("tiny-deep.pth")]
    public void UndamagedFixturesStillLoadAsPyTorchHoldsThem(string fixture)
    {
        var stateDict = CheckpointReader.Read(new MemoryStream(File.ReadAllBytes(FixtureFiles.Path(fixture)), writable: false), Name);
        var expected = Npz.Read(FixtureFiles.Path(fixture.Split('.')[0] + ".state_dict.npz"));
        Assert.Equal(expected.Keys, stateDict.Keys);
    }

    /// <summary>
    /// A view that reaches only the start of its storage (PyTorch's <c>base[:, 1:, ::2]</c> ends at element 22 of 24)
    /// must still be checked against the whole entry: damage in element 23 fails it too.
    /// </summary>
    [Fact]
    public void ViewOfAStoragePrefixStillChecksTheWholeEntry()
    {
        byte[] file = PyTorchSamples.ZipProtocol2;
        var (offset, length, _) = ZipEntryBytes.Locate(file, "archive/data/0");
        Assert.Equal(24 * sizeof(float), length);
        file[offset + length - 1] ^= 0x01;

        using var checkpoint = CheckpointFile.Open(new MemoryStream(file, writable: false), Name);
        var error = Assert.Throws<CheckpointException>(() => checkpoint.StateDict["layer.sliced"].Data);

        Assert.Contains("'archive/data/0'", error.Message);
        Assert.Contains("CRC-32", error.Message);
    }

    /// <summary>Loading a network streams tensors from the file; a damaged one fails the load with the entry's name.</summary>
    [Fact]
    public void NetworkLoadFromADamagedFileFailsNamingTheEntry()
    {
        byte[] file = File.ReadAllBytes(FixtureFiles.Path("tiny-plain.pth"));
        var (offset, length, _) = ZipEntryBytes.Locate(file, "tiny-plain/data/0");
        file[offset + length - 1] ^= 0x80;
        string path = Path.Combine(Path.GetTempPath(), $"res2net-crc-{Guid.NewGuid():n}.pth");
        File.WriteAllBytes(path, file);
        try
        {
            var network = Res2NetModels.Create("tiny-plain");
            var error = Assert.Throws<CheckpointException>(() => network.Load(path));
            Assert.Equal(path, error.FilePath);
            Assert.Contains("'tiny-plain/data/0'", error.Message);
            Assert.False(network.IsLoaded);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
