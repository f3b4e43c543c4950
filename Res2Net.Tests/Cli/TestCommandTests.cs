using System.Text.Json;
using Res2Net.Cli;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// <c>res2net test</c> end to end with the seeded res2net50-w14-s8 on the demo photos (labels chosen by
/// make_dataset_fixtures.py from PyTorch's ranking: two top-1 hits, one more top-5 hit, one miss), plus its error paths.
/// The evaluation itself is tested against PyTorch on 360 images in <see cref="DatasetEvaluatorTests"/>.
/// </summary>
public class TestCommandTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-test-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void TestPrintsPyTorchsAccuracyAsMmpretrainDoesAndReportsTheCorruptImage()
    {
        // The four labelled photos, plus a truncated JPEG that must be reported and skipped.
        string ann = Path.Combine(TempDir(), "val.txt");
        File.WriteAllText(ann, File.ReadAllText(DatasetFixtures.AnnFile("seeded")) + "../corrupt/truncated-half.jpg 3\n");
        string results = Path.Combine(TempDir(), "results.json");

        var (code, output, err) = Run("test", "--model", W14, "--checkpoint", SeededCheckpoint.Path,
            "--data", SeededCheckpoint.DemoDir, "--ann-file", ann, "--batch-size", "3", "--out", results);

        Assert.True(code == 0, err);
        var (_, top1Correct, top5Correct, top1, top5) = DatasetFixtures.Accuracy("seeded");
        Assert.Equal((2, 3), (top1Correct, top5Correct));
        Assert.Contains(FormattableString.Invariant($"accuracy/top1: {top1:0.0000}  accuracy/top5: {top5:0.0000}"), output);
        Assert.Contains("accuracy/top1: 50.0000  accuracy/top5: 75.0000", output);
        Assert.Contains("4 of 5 images evaluated, 1 skipped", output);
        Assert.Contains("test [5/5] 100%  1 skipped", output);   // the progress log of a redirected run
        Assert.Matches(@"\d+\.\d images/s", output);
        Assert.Contains("truncated-half.jpg", err);
        Assert.Contains("warning: skipped", err);
        Assert.Contains("truncated", err);

        using var json = JsonDocument.Parse(File.ReadAllText(results));
        var root = json.RootElement;
        Assert.Equal(50.0, root.GetProperty("metrics").GetProperty("accuracy/top1").GetDouble());
        Assert.Equal(75.0, root.GetProperty("metrics").GetProperty("accuracy/top5").GetDouble());
        Assert.Equal("../corrupt/truncated-half.jpg", root.GetProperty("skipped")[0].GetProperty("file").GetString());
        var samples = root.GetProperty("samples").EnumerateArray().ToArray();
        var expected = DatasetFixtures.Images("seeded");
        Assert.Equal(expected.Select(e => e.File), samples.Select(s => s.GetProperty("file").GetString()));
        Assert.Equal(expected.Select(e => e.TopK), samples.Select(s => s.GetProperty("topk").EnumerateArray().Select(x => x.GetInt32()).ToArray()));
    }

    [Fact]
    public void TtaGivesPyTorchsFlipAveragedScoresTop5AndAccuracy()
    {
        // make_tta_fixtures.py: AverageClsScoreTTA over each crop and its mirror; all four rankings are certain under
        // the score tolerance, and TTA changes the outcome here (top-1 50 % without, 25 % with).
        var expected = TtaFixtures.Images("seeded");
        var (scores, shape) = TtaFixtures.Scores("seeded");
        var (_, _, top1, top5) = TtaFixtures.Accuracy("seeded");
        Assert.All(expected, e => Assert.True(e.Decisive && e.CountDecided, e.File));
        string results = Path.Combine(TempDir(), "results.json");

        var (code, output, err) = Run("test", "--model", W14, "--checkpoint", SeededCheckpoint.Path,
            "--data", SeededCheckpoint.DemoDir, "--ann-file", DatasetFixtures.AnnFile("seeded"), "--tta", "--batch-size", "3", "--out", results);

        Assert.True(code == 0, err);
        Assert.Contains("tta: flip", output);
        Assert.Contains(FormattableString.Invariant($"accuracy/top1: {top1:0.0000}  accuracy/top5: {top5:0.0000}"), output);
        using var json = JsonDocument.Parse(File.ReadAllText(results));
        Assert.Equal("flip", json.RootElement.GetProperty("tta").GetString());
        var samples = json.RootElement.GetProperty("samples").EnumerateArray().ToArray();
        for (int i = 0; i < expected.Count; i++)
        {
            int[] topk = samples[i].GetProperty("topk").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            float[] got = samples[i].GetProperty("scores").EnumerateArray().Select(x => x.GetSingle()).ToArray();
            Assert.Equal(expected[i].TopK, topk);
            for (int j = 0; j < topk.Length; j++)
            {
                double reference = scores[i * shape[1] + topk[j]];
                Assert.True(Math.Abs(got[j] - reference) <= Inference.ImageClassifierTests.ScoreTolerance(reference), $"{expected[i].File} rank {j}");
            }
        }
    }

    [Fact]
    public void AnImageFolderThatDoesNotMatchTheClassesIsRefusedBeforeLoading()
    {
        var (code, _, err) = Run("test", "--model", W14, "--data", DatasetFixtures.DataDir("folder"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("has 10 class folders but " + W14 + " has 1000 classes", err);
    }

    [Fact]
    public void AMalformedAnnotationLineIsNamed()
    {
        string dir = TempDir();
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, "a.jpg 1\nb.jpg one\n");
        var (code, _, err) = Run("test", "--model", W14, "--data", dir, "--ann-file", ann);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{ann}:2: the label 'one' is not a non-negative integer", err);
    }

    [Fact]
    public void AMissingDataFolderOrBadBatchSizeIsExplained()
    {
        string missing = Path.Combine(TempDir(), "imagenet");
        var (code, _, err) = Run("test", "--model", W14, "--data", missing);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{missing}: dataset folder not found", err);

        (code, _, err) = Run("test", "--model", W14, "--data", TempDir(), "--batch-size", "0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--batch-size must be between 1 and 1024, got 0", err);
    }

    [Fact]
    public void TestHelpExplainsBothLayoutsAndEveryOption()
    {
        var (code, output, _) = Run("test", "--help");
        Assert.Equal(0, code);
        foreach (var text in new[] { "--model", "--checkpoint", "--data", "--ann-file", "--batch-size", "--out", "ImageFolder", "relative/path label", "top-1 and top-5" })
            Assert.Contains(text, output);
    }

    [Fact]
    public void RootHelpListsTheTestCommand()
    {
        var (_, output, _) = Run("--help");
        Assert.Contains("test", output);
        Assert.Contains("top-1 and top-5", output);
    }
}
