using System.Text.Json;
using Res2Net.Cli;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Tests.Datasets;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Inference;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// A full-size seed network's checkpoint for CLI tests: res2net50-w14-s8 with the seeded weights of
/// docs/seeded-weights.md, written once per test run to a temporary safetensors file (100 MB, deleted at exit).
/// PyTorch ran the same weights on the demo photos in make_dataset_fixtures.py.
/// </summary>
internal static class SeededCheckpoint
{
    public const string Model = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    private static readonly Lazy<string> File = new(Write, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => File.Value;

    /// <summary>The demo photos (copied from data/images by make_image_fixtures.py).</summary>
    public static string DemoDir => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "demo");

    private static string Write() =>
        WriteTemporary(Model + ".safetensors", SeededWeights.StateDict(Res2Net.Models.Res2NetModels.Create(Model).Info).Values);

    /// <summary>Writes <paramref name="tensors"/> as a safetensors file in a temporary folder deleted when the test run exits.</summary>
    public static string WriteTemporary(string fileName, IEnumerable<CheckpointTensor> tensors)
    {
        string dir = TempFolders.Create("res2net-seeded-").FullName;
        string path = System.IO.Path.Combine(dir, fileName);
        SafetensorsWriter.Write(path, tensors);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return path;
    }
}

/// <summary>
/// <c>res2net predict</c> on image files, end to end (decode, preprocess, checkpoint, forward, output), with the seeded
/// res2net50-w14-s8, against PyTorch's output for the same photos and weights.
/// </summary>
public class PredictImageTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-predict-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// One run covers --json, --save-logits and --features on the four demo photos plus bird.JPEG's preprocessed tensor
    /// (an .npy input beside the images). Top-5 labels must be PyTorch's exactly: logits agree within 2e-3 and the fixture
    /// script checked that consecutive logits among each photo's top 6 differ by more than 1e-2.
    /// </summary>
    [Fact]
    public void PredictJsonOnPhotosGivesPyTorchsTop5LogitsAndFeatures()
    {
        var expected = DatasetFixtures.Images("seeded");
        string features = Path.Combine(TempDir(), "features");
        string logitsFile = Path.Combine(TempDir(), "logits.npy");
        var args = new List<string> { "predict" };
        args.AddRange(expected.Select(e => Path.Combine(SeededCheckpoint.DemoDir, e.File)));
        args.Add(Path.Combine(SeededCheckpoint.DemoDir, "bird.JPEG.tensor.npy"));
        args.AddRange(["--model", W14, "--checkpoint", SeededCheckpoint.Path, "--json", "--save-logits", logitsFile,
            "--features", features, "--out-indices", "0", "1", "2", "3", "4"]);

        var (code, output, err) = Run(args.ToArray());

        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        var results = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(expected.Count + 1, results.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            var r = results[i];
            Assert.EndsWith(expected[i].File, r.GetProperty("input").GetString());
            var topk = r.GetProperty("topk").EnumerateArray().ToArray();
            Assert.Equal(expected[i].TopK, topk.Select(t => t.GetProperty("label").GetInt32()));
            Assert.Equal(expected[i].TopK[0], r.GetProperty("pred_label").GetInt32());
            Assert.Equal(Res2Net.Models.ClassNames.ImageNet1k[expected[i].TopK[0]], r.GetProperty("pred_class").GetString());
            for (int j = 0; j < 5; j++)
            {
                float score = topk[j].GetProperty("score").GetSingle();
                Assert.True(Math.Abs(score - expected[i].Scores[j]) <= ImageClassifierTests.ScoreTolerance(expected[i].Scores[j]),
                    $"{expected[i].File} rank {j}: {score} vs PyTorch {expected[i].Scores[j]}");
            }
        }
        // bird.JPEG's tensor, preprocessed by PIL in make_image_fixtures.py, gives what our own decode of bird.JPEG gives.
        int bird = expected.ToList().FindIndex(e => e.File == "bird.JPEG");
        Assert.Equal(results[bird].GetProperty("topk").ToString(), results[^1].GetProperty("topk").ToString());

        var (logits, shape) = Res2Net.Runtime.IO.Npy.Read(logitsFile);
        Assert.Equal(new[] { expected.Count + 1, 1000 }, shape);
        var (diff, _) = Fixtures.Compare(logits.AsSpan(0, expected.Count * 1000), DatasetFixtures.Logits("seeded").Data);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2}");

        // One [1, C, H, W] file per input and stage; bird.JPEG's against PyTorch's, sampled as make_fixtures.py samples.
        Assert.Equal(5 * (expected.Count + 1), Directory.GetFiles(features).Length);
        Assert.Empty(Directory.GetFiles(features, "*.partial"));
        var info = Res2Net.Models.Res2NetModels.Create(W14).Info;
        foreach (var f in info.Features)
        {
            var (data, fshape) = Res2Net.Runtime.IO.Npy.Read(Path.Combine(features, $"bird.{f.Name}.npy"));
            Assert.Equal(new[] { 1, f.Channels, f.Height, f.Width }, fshape);
            var (sample, _) = Res2Net.Runtime.IO.Npy.Read(DatasetFixtures.Path($"seeded-demo.bird.{f.Name}.sample.npy"));
            int stride = data.Length / sample.Length;
            var ours = Enumerable.Range(0, sample.Length).Select(i => data[i * stride]).ToArray();
            var (fdiff, scale) = Fixtures.Compare(ours, sample);
            Assert.True(fdiff <= Tolerances.StageRelative * scale, $"{f.Name}: {fdiff:E2} > {Tolerances.StageRelative:E0} × {scale:F3}");
            Assert.True(File.Exists(Path.Combine(features, $"bird.JPEG.tensor.{f.Name}.npy")));
        }
    }

    [Fact]
    public void FeaturesDefaultToTheFourStagesAsTables()
    {
        string features = Path.Combine(TempDir(), "features");
        var (code, output, err) = Run("predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"),
            "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--features", features, "--topk", "2");

        Assert.True(code == 0, err);
        Assert.Equal(new[] { "dog.layer1.npy", "dog.layer2.npy", "dog.layer3.npy", "dog.layer4.npy" },
            Directory.GetFiles(features).Select(Path.GetFileName).Order());
        var expected = DatasetFixtures.Images("seeded").Single(e => e.File == "dog.jpg");
        Assert.Contains(Res2Net.Models.ClassNames.ImageNet1k[expected.TopK[0]], output);
        Assert.Contains(Res2Net.Models.ClassNames.ImageNet1k[expected.TopK[1]], output);
        Assert.DoesNotContain(Res2Net.Models.ClassNames.ImageNet1k[expected.TopK[2]], output);
        Assert.Contains(W14, output);
    }

    [Fact]
    public void ACorruptImageIsAnErrorNamingItAndLeavesNoFeatures()
    {
        string features = Path.Combine(TempDir(), "features");
        string corrupt = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "corrupt", "truncated-half.jpg");

        var (code, output, err) = Run("predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), corrupt,
            "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--features", features);

        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"Cannot decode image '{corrupt}'", err);
        Assert.Contains("truncated", err);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(features) && Directory.EnumerateFileSystemEntries(features).Any(), "features left behind");
    }

    [Fact]
    public void AMissingImageIsNamedBeforeAnythingRuns()
    {
        string missing = Path.Combine(TempDir(), "nope.jpg");
        var (code, _, err) = Run("predict", missing, "--model", W14, "--checkpoint", Fixtures.Path("tiny-plain.pth"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"input {missing} does not exist", err);
    }

    [Fact]
    public void InputsThatWouldOverwriteEachOthersFeaturesAreRefused()
    {
        string a = Path.Combine(TempDir(), "cat.png"), b = Path.Combine(TempDir(), "cat.jpg");
        File.WriteAllBytes(a, [1]);
        File.WriteAllBytes(b, [1]);
        var (code, _, err) = Run("predict", a, b, "--model", W14, "--features", TempDir());
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("would both save their features as cat.*.npy", err);
    }

    [Theory]
    [InlineData(new[] { "--out-indices", "2" }, "--out-indices chooses what --features saves")]
    [InlineData(new[] { "--features", "DIR", "--out-indices", "5" }, "--out-indices takes distinct values from 0 (stem) to 4 (layer4), got 5")]
    [InlineData(new[] { "--features", "DIR", "--out-indices", "1", "1" }, "got 1 1")]
    public void BadFeatureOptionsAreExplained(string[] options, string message)
    {
        string dir = TempDir();
        var args = new[] { "predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14 }
            .Concat(options.Select(o => o == "DIR" ? dir : o)).ToArray();
        var (code, _, err) = Run(args);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void OutputsThatCannotBeWrittenAreRefusedBeforeAnythingRuns()
    {
        string image = Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg");
        string file = Path.Combine(TempDir(), "taken");
        File.WriteAllText(file, "");
        var (code, _, err) = Run("predict", image, "--model", W14, "--features", file);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"--features {file} is a file", err);

        string nowhere = Path.Combine(TempDir(), "no", "such", "dir", "logits.npy");
        (code, _, err) = Run("predict", image, "--model", W14, "--save-logits", nowhere);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{nowhere}: cannot write: folder {Path.GetDirectoryName(nowhere)} does not exist", err);
    }

    [Fact]
    public void HelpDescribesImagesAndFeatures()
    {
        var (code, output, _) = Run("predict", "--help");
        Assert.Equal(0, code);
        foreach (var text in new[] { "JPEG, PNG", ".npy", "--features", "--out-indices", "NAME.STAGE.npy", "layer4", "[1, C, H, W]" })
            Assert.Contains(text, output);
    }
}
