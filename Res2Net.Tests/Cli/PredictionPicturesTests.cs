using Res2Net.Cli.Commands;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Visualization;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary><c>predict --out-dir</c> and <c>test --out-dir [--show-wrong]</c> on the seeded res2net50-w14-s8.</summary>
public class PredictionPicturesTests : IDisposable
{
    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-pictures-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// A photo and a 20 x 12 thumbnail: each picture decodes, has the input's size (the thumbnail enlarged by a whole
    /// factor), and shows the input unchanged in its bottom-right part, away from the label box in the top-left.
    /// </summary>
    [Fact]
    public void PredictSavesEachImageWithItsPredictionDrawnOnIt()
    {
        string dir = TempDir();
        string thumbnail = Path.Combine(dir, "thumb.png");
        var small = new RgbImage(20, 12);
        for (int i = 0; i < small.Pixels.Length; i++) small.Pixels[i] = (byte)(i * 37);
        using (var file = File.Create(thumbnail)) PngEncoder.Write(file, small);
        string dog = Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg");
        string output = Path.Combine(dir, "shown");

        var (code, _, err) = CliTests.Run(["predict", dog, thumbnail, "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path,
            "--out-dir", output, "--topk", "3"]);
        Assert.True(code == 0, err);
        Assert.Equal(new[] { "dog.jpg.png", "thumb.png.png" }, Directory.GetFiles(output).Select(Path.GetFileName).Order());

        var photo = ImageDecoder.Decode(dog);
        var drawn = ImageDecoder.Decode(Path.Combine(output, "dog.jpg.png"));
        Assert.Equal((photo.Width, photo.Height), (drawn.Width, drawn.Height));
        AssertSameBottomRight(photo, drawn);
        Assert.NotEqual(photo.Pixels, drawn.Pixels);

        int scale = PredictionPainter.ScaleFor(20, 12);
        Assert.True(12 * scale >= PredictionPainter.MinShortSide);
        var thumbDrawn = ImageDecoder.Decode(Path.Combine(output, "thumb.png.png"));
        Assert.Equal((20 * scale, 12 * scale), (thumbDrawn.Width, thumbDrawn.Height));
        AssertSameBottomRight(PredictionPainter.Enlarge(small, scale), thumbDrawn);
    }

    private static void AssertSameBottomRight(RgbImage expected, RgbImage actual)
    {
        for (int y = expected.Height / 2; y < expected.Height; y++)
        {
            int from = expected.Width / 2 * 3;
            Assert.True(expected.Row(y)[from..].SequenceEqual(actual.Row(y)[from..]), $"row {y} of the bottom-right quarter changed");
        }
    }

    /// <summary>
    /// The seeded demo set (labels drawn by PyTorch's rank: bird and dog top-1 hits, cat-dog rank 2, demo rank 6):
    /// --show-wrong saves exactly the two misclassified photos; without it, all four.
    /// </summary>
    [Theory]
    [InlineData(true, new[] { "cat-dog.png.png", "demo.JPEG.png" })]
    [InlineData(false, new[] { "bird.JPEG.png", "cat-dog.png.png", "demo.JPEG.png", "dog.jpg.png" })]
    public void TestSavesTheMisclassifiedImages(bool wrongOnly, string[] expected)
    {
        string output = Path.Combine(TempDir(), "shown");
        string[] args = ["test", "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path, "--data", SeededCheckpoint.DemoDir,
            "--ann-file", DatasetFixtures.AnnFile("seeded"), "--out-dir", output, .. wrongOnly ? new[] { "--show-wrong" } : []];
        var (code, stdout, err) = CliTests.Run(args);
        Assert.True(code == 0, err);
        Assert.Equal(expected, Directory.GetFiles(output).Select(Path.GetFileName).Order());
        Assert.Contains($"pictures: {expected.Length} {(wrongOnly ? "misclassified images" : "images")} drawn in {output}", stdout);
        foreach (string name in expected)
        {
            var photo = ImageDecoder.Decode(Path.Combine(SeededCheckpoint.DemoDir, name[..^4]));
            var drawn = ImageDecoder.Decode(Path.Combine(output, name));
            Assert.Equal((photo.Width, photo.Height), (drawn.Width, drawn.Height));
        }
    }

    /// <summary>An annotation file may list an image twice (here with two labels): it is drawn once, for its first line that qualifies.</summary>
    [Fact]
    public void AnImageListedTwiceIsDrawnOnce()
    {
        string dir = TempDir();
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, "dog.jpg 95\ndog.jpg 0\nbird.JPEG 95\n");   // 95 is the seeded network's top-1 for both photos
        string output = Path.Combine(dir, "shown");
        var (code, stdout, err) = CliTests.Run(["test", "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path,
            "--data", SeededCheckpoint.DemoDir, "--ann-file", ann, "--out-dir", output, "--show-wrong"]);
        Assert.True(code == 0, err);
        Assert.Equal(new[] { "dog.jpg.png" }, Directory.GetFiles(output).Select(Path.GetFileName));
        Assert.Contains("pictures: 1 misclassified images drawn in", stdout);
    }

    [Theory]
    [InlineData("dog.jpg", "dog.jpg.png")]
    [InlineData("val/n01/x.JPEG", "val/n01/x.JPEG.png")]
    [InlineData("../corrupt/x.jpg", "%2E%2E/corrupt/x.jpg.png")]
    [InlineData("/abs/x.jpg", "%2F/abs/x.jpg.png")]
    [InlineData("50%.jpg", "50%25.jpg.png")]
    public void PictureNamesStayInsideTheFolder(string image, string picture) => Assert.Equal(picture, PredictionPictures.NameOf(image));
}
