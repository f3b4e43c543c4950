using Res2Net.Tests.Checkpoints;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>What <c>res2net test</c> and <c>res2net predict</c> print about files shows their control characters escaped.</summary>
public class ControlCharacterOutputTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-escape-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SkippedImageWarningShowsTheNameEscaped()
    {
        string ann = Path.Combine(_dir, "val.txt");
        string firstGood = File.ReadLines(DatasetFixtures.AnnFile("seeded")).First();
        File.WriteAllText(ann, firstGood + "\nmissing\u001b[31m\u202e.jpg 0\n");

        var (code, output, err) = CliTests.Run("test", "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path,
            "--data", SeededCheckpoint.DemoDir, "--ann-file", ann);

        Assert.True(code == 0, err);
        Assert.Contains("warning: skipped", err);
        Assert.Contains("missing\\x1b[31m\\u202e.jpg", err);
        ControlCharacterTests.ShowsNoRawControls(err);
        ControlCharacterTests.ShowsNoRawControls(output);
    }

    /// <summary>The exit-2 error line for a corrupt image: its name comes from the file system, not the user's keyboard.</summary>
    [Fact]
    public void CorruptImageErrorShowsTheNameEscaped()
    {
        string image = Path.Combine(_dir, "photo\u001b[31m\u202e.jpg");
        File.WriteAllBytes(image, [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);

        var (code, output, err) = CliTests.Run("predict", image, "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path);

        Assert.Equal(2, code);
        Assert.Contains($"res2net: error: Cannot decode image '{Path.Combine(_dir, "photo\\x1b[31m\\u202e.jpg")}': ", err);
        ControlCharacterTests.ShowsNoRawControls(err);
        ControlCharacterTests.ShowsNoRawControls(output);
    }

    /// <summary>The table of a prediction is titled with the input's path.</summary>
    [Fact]
    public void PredictionTableShowsTheImageNameEscaped()
    {
        string image = Path.Combine(_dir, "photo\u001b[31m\u202e.png");
        File.Copy(Path.Combine(SeededCheckpoint.DemoDir, "cat-dog.png"), image);

        var (code, output, err) = CliTests.Run("predict", image, "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path);

        Assert.True(code == 0, err);
        // The table wraps a title longer than itself, at any character: compare without the white space it adds.
        string unwrapped = string.Concat(output.Where(c => !char.IsWhiteSpace(c)));
        Assert.True(unwrapped.Contains(Path.Combine(_dir, "photo\\x1b[31m\\u202e.png"), StringComparison.Ordinal), output);
        ControlCharacterTests.ShowsNoRawControls(output);
    }

    /// <summary>
    /// Errors .NET raises itself (a missing checkpoint: FileNotFoundException) quote the path as it is; the one line
    /// the CLI prints for them is escaped all the same, while a message's own line breaks stay line breaks.
    /// </summary>
    [Fact]
    public void MissingFileErrorShowsTheNameEscaped()
    {
        string missing = Path.Combine(_dir, "weights\u001b]0;owned\u0007\u2028.pth");
        var (code, output, err) = CliTests.Run("convert", missing, Path.Combine(_dir, "out.safetensors"));

        Assert.Equal(2, code);
        Assert.StartsWith("res2net: error: ", err);
        Assert.Contains("weights\\x1b]0;owned\\x07\\u2028.pth", err);
        ControlCharacterTests.ShowsNoRawControls(err);
        Assert.Empty(output);
    }

    [Fact]
    public void EveryLineOfAMessageIsEscapedAndItsLineBreaksKept()
    {
        Assert.Equal($"first \\x1b[2J{Environment.NewLine}second \\u2028",
            Res2Net.Cli.CliApp.Printable("first \u001b[2J\r\nsecond \u2028"));
    }
}
