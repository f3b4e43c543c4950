using Res2Net.Runtime.IO;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.IO;

/// <summary>
/// np.savez stores every .npy entry with the CRC-32 of its bytes, as torch.save does (see <see cref="ZipCrcTests"/>).
/// A flipped bit in an array's data leaves a well-formed archive that parses to wrong numbers; only the CRC can tell,
/// and reading must then fail naming the file and the entry. The CRCs the messages quote come from the archive's
/// directory (expected, written by numpy's zipfile) and from the bit-by-bit reference CRC of the damaged bytes (found).
/// </summary>
public class NpzCrcTests : IDisposable
{
    private const string Fixture = "tiny-plain.state_dict.npz";
    private const string Entry = "backbone.conv1.weight.npy";

    private readonly string _dir = TempFolders.Create("res2net-npz-crc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A copy of the fixture with one byte of <see cref="Entry"/> changed; where, says <paramref name="pick"/>.</summary>
    private (string Path, uint ExpectedCrc, uint FoundCrc) Damaged(Func<ReadOnlyMemory<byte>, int> pick)
    {
        byte[] file = File.ReadAllBytes(FixtureFiles.Path(Fixture));
        var (offset, length, expectedCrc) = ZipEntryBytes.Locate(file, Entry);
        Assert.Equal(expectedCrc, ZipEntryBytes.Crc32(file.AsSpan(offset, length))); // the reference agrees with numpy's writer
        file[offset + pick(file.AsMemory(offset, length))] ^= 0x01;
        string path = Path.Combine(_dir, "damaged.npz");
        File.WriteAllBytes(path, file);
        return (path, expectedCrc, ZipEntryBytes.Crc32(file.AsSpan(offset, length)));
    }

    [Fact]
    public void FlippedDataByteFailsNamingTheFileTheEntryAndBothCrcs()
    {
        // Half way into the entry: inside the float32 data, far past the 128-byte header.
        var (path, expectedCrc, foundCrc) = Damaged(entry => entry.Length / 2);

        var error = Assert.Throws<NpyException>(() => Npz.Read(path));

        Assert.Equal(path, error.FilePath);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{Entry}' is damaged", error.Message);
        Assert.Contains($"CRC-32 {foundCrc:x8}", error.Message);
        Assert.Contains($"directory records {expectedCrc:x8}", error.Message);
    }

    /// <summary>
    /// '&lt;f4' becomes '&lt;f5' in the .npy header: a dtype numpy does not have. The damage, not the dtype, is what
    /// the user must hear about, or they would blame the program that wrote the file.
    /// </summary>
    [Fact]
    public void FlippedHeaderByteIsReportedAsDamageNotAsABadHeader()
    {
        var (path, expectedCrc, foundCrc) = Damaged(entry => entry.Span.IndexOf("'<f4'"u8) + 3);

        var error = Assert.Throws<NpyException>(() => Npz.Read(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains($"'{Entry}' is damaged", error.Message);
        Assert.Contains($"CRC-32 {foundCrc:x8}", error.Message);
        Assert.Contains($"directory records {expectedCrc:x8}", error.Message);
        Assert.IsType<NpyException>(error.InnerException); // what the damaged header looked like, for whoever digs
    }

    /// <summary>Entry counts and first headers as Python's zipfile and the .npy headers show them.</summary>
    [Theory]
    [InlineData("tiny-plain.state_dict.npz", 182, "backbone.conv1.weight", new[] { 16, 3, 7, 7 })]
    [InlineData("tiny-deep.state_dict.npz", 164, "backbone.stem.0.conv.weight", new[] { 8, 3, 3, 3 })]
    public void UndamagedCopyOfAFixtureStillReads(string fixture, int count, string firstKey, int[] firstShape)
    {
        string path = Path.Combine(_dir, fixture);
        File.Copy(FixtureFiles.Path(fixture), path);

        var arrays = Npz.Read(path);

        Assert.Equal(count, arrays.Count);
        Assert.Equal(firstKey, arrays.Keys.First());
        Assert.Equal(firstShape, arrays[firstKey].Shape);
    }

    /// <summary>savez_compressed: the CRC covers the inflated .npy bytes, which are checked after inflating.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ArchivesWeWriteReadBack(bool compress)
    {
        string path = Path.Combine(_dir, "written.npz");
        float[] data = [1.5f, -2f, 3.25f, 0f, float.MaxValue, float.Epsilon];
        Npz.Write(path, [new("a", (data, [2, 3])), new("b", ([7f], [1]))], compress);

        var arrays = Npz.Read(path);

        Assert.Equal(data, arrays["a"].Data);
        Assert.Equal([2, 3], arrays["a"].Shape);
        Assert.Equal([7f], arrays["b"].Data);
    }
}
