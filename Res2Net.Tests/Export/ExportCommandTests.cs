using Microsoft.ML.OnnxRuntime;
using Res2Net.Cli;
using Res2Net.Runtime.Export;
using Res2Net.Tests.Cli;
using Xunit;

namespace Res2Net.Tests.Export;

/// <summary><c>res2net export</c> and <c>res2net bench</c> run in-process.</summary>
public class ExportCommandTests
{
    private const string W14 = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    [Fact]
    public void ExportWritesAModelOnnxRuntimeLoads()
    {
        string dir = TempFolders.Create("res2net-export").FullName;
        try
        {
            string file = Path.Combine(dir, "w14.onnx");
            var (code, output, err) = CliTests.Run("export", "--model", W14, "--seeded", "--out", file);

            Assert.True(code == 0, err);
            Assert.Contains("opset 13", output);
            Assert.Contains("folded", output);
            Assert.False(File.Exists(file + ".partial"));
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
            using var session = new InferenceSession(file, options);
            Assert.Equal(new[] { -1, 3, 224, 224 }, session.InputMetadata[OnnxExporter.InputName].Dimensions);
            Assert.Equal(new[] { -1, 1000 }, session.OutputMetadata[OnnxExporter.OutputName].Dimensions);
            Assert.Equal(W14, session.ModelMetadata.CustomMetadataMap["mmpretrain_model"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExportOfACheckpointThatDoesNotFitListsTheMismatchAndWritesNothing()
    {
        string dir = TempFolders.Create("res2net-export").FullName;
        try
        {
            string file = Path.Combine(dir, "w14.onnx");
            var (code, _, err) = CliTests.Run("export", "--model", W14, "--checkpoint", Fixtures.Path("tiny-plain.pth"), "--out", file);

            Assert.Equal(CliApp.UserError, code);
            Assert.Contains("tiny-plain.pth: the checkpoint does not fit " + W14, err);
            Assert.Contains("backbone.conv1.weight: expected [64, 3, 7, 7], found [16, 3, 7, 7]", err);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExportRefusesBothACheckpointAndSeededWeights()
    {
        var (code, _, err) = CliTests.Run("export", "--model", W14, "--seeded", "--checkpoint", Fixtures.Path("tiny-plain.pth"), "--out", "x.onnx");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("either --checkpoint FILE or --seeded", err);
    }

    [Fact]
    public void BenchComparesWithOnnxRuntimeAfterCheckingTheyAgree()
    {
        // Threads left at their default (the core count) so the process-wide worker count other tests see is unchanged.
        var (code, output, err) = CliTests.Run("bench", "--model", W14, "--compare", "onnxruntime", "--iterations", "2", "--warmup", "0");

        Assert.True(code == 0, err);
        Assert.Contains("ours (compiled)", output);
        Assert.Contains("ONNX Runtime 1.31", output);
        Assert.Contains("ours / ONNX Runtime:", output);
        Assert.Contains("the median of 2 runs timed in alternating pairs; quartiles", output);
        Assert.Contains("outputs agree: max |ours - ONNX Runtime|", output);
        Assert.Contains("8.36 GFLOP per image", output);
    }

    [Fact]
    public void BenchOnlyComparesWithOnnxRuntime()
    {
        var (code, _, err) = CliTests.Run("bench", "--model", W14, "--compare", "tensorflow");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("'onnxruntime'", err);
    }

    [Fact]
    public void HelpDescribesEveryOption()
    {
        var (code, output, _) = CliTests.Run("export", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--checkpoint", "--seeded", "--out", "--keep-batchnorm", "--batch" }) Assert.Contains(option, output);
        (code, output, _) = CliTests.Run("bench", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--batch", "--threads", "--compare", "--checkpoint", "--iterations", "--warmup" }) Assert.Contains(option, output);
    }
}
