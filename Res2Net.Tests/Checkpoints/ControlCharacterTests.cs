using System.IO.Compression;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// Names read from a file (tensor keys, storage keys, zip entry names) reach error messages, and from there the
/// terminal. A name holding ESC [ 31 m would recolour it, and worse sequences can retitle the window or move the
/// cursor over earlier output; bidi overrides reorder what is shown. Messages must show such characters escaped.
/// </summary>
public class ControlCharacterTests
{
    private const string Red = "\u001b[31m";
    private const string RedShown = "\\x1b[31m";

    internal static void ShowsNoRawControls(string message)
    {
        foreach (char c in message)
            Assert.False(char.IsControl(c) && c != '\n' || c is '\u202e' or '\u2066', $"raw U+{(int)c:X4} in: {message}");
    }

    [Fact]
    public void UnexpectedKeyIsListedEscaped()
    {
        var tensors = CheckpointReader.Read(FixtureFiles.Path("tiny-plain.pth")).Tensors.ToList();
        tensors.Add(new CheckpointTensor("backbone." + Red + "evil.weight", [1], TensorDType.Float32, [0f]));
        string path = Path.Combine(Path.GetTempPath(), $"res2net-escape-{Guid.NewGuid():n}.safetensors");
        SafetensorsWriter.Write(path, tensors);
        try
        {
            var error = Assert.Throws<StateDictMismatchException>(() => Res2NetModels.Create("tiny-plain").Load(path));
            Assert.Contains("backbone." + RedShown + "evil.weight", error.Message);
            ShowsNoRawControls(error.Message);
            // The exception's lists keep the real key for programs.
            Assert.Equal(["backbone." + Red + "evil.weight"], error.Unexpected);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void KeyOfAnIntegerWeightIsNamedEscaped()
    {
        byte[] pickle = PickleBuilder.StateDict(false, ("evil" + Red + "\u202e.weight", "LongStorage", "0", 1, 0, [1], [1]));
        var error = CheckpointAssert.Fails(CheckpointZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[8] }), "has dtype Int64");
        Assert.Contains("'evil" + RedShown + "\\u202e.weight'", error.Message);
        ShowsNoRawControls(error.Message);
        ShowsNoRawControls(error.Cause);
    }

    [Fact]
    public void MissingStorageEntryIsNamedEscaped()
    {
        byte[] pickle = PickleBuilder.StateDict(false, ("w", "FloatStorage", "0\u001b[2J\u009b1m", 1, 0, [1], [1]));
        var error = CheckpointAssert.Fails(CheckpointZip.Build(pickle), "is referenced by the pickle");
        Assert.Contains("'ckpt/data/0\\x1b[2J\\x9b1m'", error.Message);
        ShowsNoRawControls(error.Message);
    }

    [Fact]
    public void NpzEntryNameIsNamedEscaped()
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
            zip.CreateEntry("weights" + Red + ".txt");
        memory.Position = 0;

        var error = Assert.Throws<NpyException>(() => Npz.Read(memory, "arrays.npz"));

        Assert.Contains("'weights" + RedShown + ".txt'", error.Message);
        ShowsNoRawControls(error.Message);
    }
}
