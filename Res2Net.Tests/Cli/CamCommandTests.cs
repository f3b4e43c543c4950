using System.Text.Json;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary><c>res2net cam</c> end to end on the seeded res2net50-w14-s8: files, names, the raw maps against PyTorch.</summary>
public class CamCommandTests : IDisposable
{
    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-cam-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// dog.jpg for the three classes of make_cam_fixtures.py, one given by name ("Dungeness crab" is the first synonym
    /// of class 118): the .npy maps must be PyTorch's within the logits' tolerance (ClassActivationMapTests says why),
    /// and each PNG the crop's size.
    /// </summary>
    [Fact]
    public void WritesOnePngAndOneRawMapPerClassMatchingPyTorch()
    {
        string output = Path.Combine(TempDir(), "maps");
        string dog = Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg");
        var (code, stdout, err) = CliTests.Run(["cam", dog, "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path,
            "--class", "95", "Dungeness crab", "--class", "0", "--out", output]);
        Assert.True(code == 0, err);

        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("cam", "seeded-demo.cam.json")));
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        var (expected, _) = Fixtures.Npy("cam", "seeded-demo.cam.npy");
        foreach (int label in new[] { 95, 118, 0 })
        {
            int row = Array.FindIndex(rows, r => r.GetProperty("file").GetString() == "dog.jpg" && r.GetProperty("label").GetInt32() == label);
            var (map, shape) = Npy.Read(Path.Combine(output, $"dog.cam.{label}.npy"));
            Assert.Equal(new[] { 7, 7 }, shape);
            var (diff, _) = Fixtures.Compare(map, expected.AsSpan(row * 49, 49));
            Assert.True(diff <= Res2Net.Tests.Forward.Tolerances.LogitsAbsolute, $"class {label}: max |CAM − PyTorch| = {diff:E2}");

            var picture = ImageDecoder.Decode(Path.Combine(output, $"dog.cam.{label}.png"));
            Assert.Equal((224, 224), (picture.Width, picture.Height));
            Assert.Contains($"dog.cam.{label}.png: class {label} (", stdout);
        }
        Assert.Equal(6, Directory.GetFiles(output).Length);
        Assert.Contains("class 95 (jacamar), score ", stdout);
        Assert.Contains("(predicted)", stdout);   // 95 is dog.jpg's top-1 under the seeded weights (make_cam_fixtures.py)
    }

    [Fact]
    public void DefaultClassIsThePredictionAndNamesCarryNoLabel()
    {
        string output = Path.Combine(TempDir(), "maps");
        var (code, stdout, err) = CliTests.Run(["cam", Path.Combine(SeededCheckpoint.DemoDir, "bird.JPEG"), Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"),
            "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path, "--out", output]);
        Assert.True(code == 0, err);
        Assert.Equal(new[] { "bird.cam.npy", "bird.cam.png", "dog.cam.npy", "dog.cam.png" }, Directory.GetFiles(output).Select(Path.GetFileName).Order());
        // make_cam_fixtures.py: PyTorch predicts 95 for both photos.
        Assert.Equal(2, stdout.Split('\n').Count(line => line.Contains("class 95 (jacamar)") && line.Contains("(predicted)")));
    }

    [Fact]
    public void AnExistingFileOfAnotherKindIsLeftAloneAndNothingIsWritten()
    {
        string output = TempDir();
        File.WriteAllText(Path.Combine(output, "dog.cam.png"), "my notes");
        var (code, _, err) = CliTests.Run(["cam", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", SeededCheckpoint.Model,
            "--checkpoint", SeededCheckpoint.Path, "--out", output]);
        Assert.Equal(2, code);
        Assert.Contains("dog.cam.png: already exists and is not a PNG image", err);
        Assert.Equal("my notes", File.ReadAllText(Path.Combine(output, "dog.cam.png")));
        Assert.Single(Directory.GetFiles(output));
    }
}
