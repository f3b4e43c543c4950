using System.IO.Compression;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>.npz archives as np.savez / np.savez_compressed write them.</summary>
public class NpzTests
{
    [Fact]
    public void FixtureArchiveHasEveryStateDictKey()
    {
        var arrays = Npz.Read(FixtureFiles.Path("tiny-plain.state_dict.npz"));
        Assert.Equal(182, arrays.Count);
        Assert.Equal("backbone.conv1.weight", arrays.Keys.First());
        Assert.Equal([16, 3, 7, 7], arrays["backbone.conv1.weight"].Shape);
        Assert.Empty(arrays["backbone.bn1.num_batches_tracked"].Shape);
        Assert.Equal([1234f], arrays["backbone.bn1.num_batches_tracked"].Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteThenReadRoundTrips(bool compress)
    {
        string path = Path.Combine(Path.GetTempPath(), $"res2net-npz-{Guid.NewGuid()}.npz");
        try
        {
            var arrays = new Dictionary<string, (float[] Data, int[] Shape)>
            {
                ["b.weight"] = (Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray(), [2, 3, 4]),
                ["a"] = ([7f], []),
                ["nested/key"] = ([], [0, 2]),
            };
            Npz.Write(path, arrays, compress);
            var read = Npz.Read(path);
            Assert.Equal(arrays.Keys, read.Keys);
            foreach (var (key, (data, shape)) in arrays)
            {
                Assert.Equal(shape, read[key].Shape);
                Assert.Equal(data, read[key].Data);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EntryErrorsNameTheArchiveAndTheEntry()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var stream = zip.CreateEntry("bad.npy").Open();
            stream.Write("junk"u8);
        }
        var error = Assert.Throws<NpyException>(() => Npz.Read(new MemoryStream(memory.ToArray()), "x.npz"));
        Assert.StartsWith("x.npz/bad.npy: magic", error.Message);
    }

    [Fact]
    public void NonArrayEntriesAndNonZipsAreRejected()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
            zip.CreateEntry("notes.txt");
        var error = Assert.Throws<NpyException>(() => Npz.Read(new MemoryStream(memory.ToArray()), "x.npz"));
        Assert.Equal("x.npz: archive: entry 'notes.txt' is not a .npy array", error.Message);

        error = Assert.Throws<NpyException>(() => Npz.Read(new MemoryStream("not a zip"u8.ToArray()), "y.npz"));
        Assert.StartsWith("y.npz: archive: not a readable .npz (zip) archive", error.Message);
    }
}
