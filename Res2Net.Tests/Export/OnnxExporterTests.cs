using Microsoft.ML.OnnxRuntime;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Export;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Export;

/// <summary>
/// The ONNX exporter checked against PyTorch, not against our own engine: the tiny networks' PyTorch-saved
/// checkpoints are exported, run in ONNX Runtime, and compared with the logits PyTorch computed.
/// </summary>
public class OnnxExporterTests
{
    /// <summary>
    /// Same promise as our engine's (Forward/Tolerances.cs): ONNX Runtime sums float32 in its own order
    /// (im2col/Winograd-free GEMM blocking, FMA), and folding BatchNorm into the weights rounds differently from
    /// applying it after the conv; each costs a few ulps per accumulation. Observed: about 4e-5 on logits up to 135.
    /// A wrong tap, pad, pooling mode or split order errs by 1e-1 or more.
    /// </summary>
    private const double LogitsAbsolute = 2e-3;

    public static TheoryData<string, bool> NetworksAndFolding => new()
    {
        { "tiny-plain", true }, { "tiny-plain", false }, { "tiny-deep", true }, { "tiny-deep", false },
    };

    internal static byte[] Export(string name, OnnxExportOptions? options = null)
    {
        var info = Res2NetModels.Create(name).Info;
        using var stream = new MemoryStream();
        OnnxExporter.Export(info, CheckpointReader.Read(Fixtures.Path(name + ".pth")), stream, options);
        return stream.ToArray();
    }

    internal static float[] Run(InferenceSession session, float[] input, int[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape.Select(d => (long)d).ToArray());
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { OnnxExporter.InputName }, new[] { value }, new[] { OnnxExporter.OutputName });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(NetworksAndFolding))]
    public void OnnxRuntimeOnTheExportGivesPyTorchsLogits(string name, bool foldBatchNorm)
    {
        var model = Export(name, new OnnxExportOptions { FoldBatchNorm = foldBatchNorm });
        var (input, shape) = Fixtures.Npy(name + ".input.npy");
        var (expected, expectedShape) = Fixtures.Npy(name + ".logits.npy");
        using var session = new InferenceSession(model);

        var logits = Run(session, input, shape);

        Assert.Equal(expected.Length, logits.Length);
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= LogitsAbsolute, $"{name}: max |ONNX Runtime − PyTorch| = {diff:E2} > {LogitsAbsolute:E0}");
        Assert.Equal(2, expectedShape[0]);
    }

    [Fact]
    public void DeclaresADynamicBatchAndRunsBatchOneAndTwo()
    {
        using var session = new InferenceSession(Export("tiny-deep"));
        var input = session.InputMetadata[OnnxExporter.InputName];
        var output = session.OutputMetadata[OnnxExporter.OutputName];
        Assert.Equal(new[] { -1, 3, 45, 37 }, input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal(new[] { -1, 7 }, output.Dimensions);
        Assert.Equal("batch", output.SymbolicDimensions[0]);
        Assert.Equal(OnnxExporter.ProducerName, session.ModelMetadata.ProducerName);
        Assert.Equal("tiny-deep", session.ModelMetadata.CustomMetadataMap["mmpretrain_model"]);

        var (images, shape) = Fixtures.Npy("tiny-deep.input.npy");
        int one = 3 * 45 * 37;
        var both = Run(session, images, shape);
        var first = Run(session, images[..one], new[] { 1, 3, 45, 37 });
        var second = Run(session, images[one..], new[] { 1, 3, 45, 37 });

        Assert.Equal(14, both.Length);
        var (diff, _) = Fixtures.Compare(both, first.Concat(second).ToArray());
        Assert.True(diff <= 1e-4, $"batch 2 vs two batches of 1: max |diff| = {diff:E2}");
    }

    [Fact]
    public void AFixedBatchSizeIsDeclared()
    {
        using var session = new InferenceSession(Export("tiny-plain", new OnnxExportOptions { BatchSize = 2 }));
        Assert.Equal(new[] { 2, 3, 48, 40 }, session.InputMetadata[OnnxExporter.InputName].Dimensions);
        Assert.Equal(new[] { 2, 10 }, session.OutputMetadata[OnnxExporter.OutputName].Dimensions);
    }

    [Fact]
    public void SummaryCountsTheGraph()
    {
        var info = Res2NetModels.Create("tiny-plain").Info;
        var stateDict = CheckpointReader.Read(Fixtures.Path("tiny-plain.pth"));
        using var stream = new MemoryStream();

        var folded = OnnxExporter.Export(info, stateDict, stream);

        Assert.Equal(stream.Length, folded.Bytes);
        // blocks [2, 1, 1, 1], scales 4: stem conv, per block conv1 + 3 convs + conv3, and one shortcut conv per stage.
        Assert.Equal(1 + 5 * 5 + 4, folded.OperatorCounts["Conv"]);
        Assert.Equal(5, folded.OperatorCounts["Split"]);
        Assert.Equal(4, folded.OperatorCounts["AveragePool"]);
        Assert.False(folded.OperatorCounts.ContainsKey("BatchNormalization"));
        Assert.Equal(NetworkCost.ConvAndLinearMacs(info), folded.MultiplyAccumulates);

        var kept = OnnxExporter.Export(info, stateDict, Stream.Null, new OnnxExportOptions { FoldBatchNorm = false });
        Assert.Equal(30, kept.OperatorCounts["BatchNormalization"]);
        // Unfolded, every state-dict tensor but num_batches_tracked is stored as it is.
        Assert.Equal(info.StateDict.Sum(e => e.ElementCount), kept.InitializerFloats);
    }

    [Fact]
    public void TensorsThatDoNotFitAreAllListed()
    {
        var info = Res2NetModels.Create("tiny-plain").Info;
        var tensors = SeededWeights.StateDict(info).Where(kv => kv.Key != "head.fc.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors["backbone.conv1.weight"] = new CheckpointTensor("backbone.conv1.weight", new[] { 16, 3, 3, 3 }, TensorDType.Float32, new float[16 * 27]);

        var e = Assert.Throws<StateDictMismatchException>(() => OnnxExporter.Export(info, tensors, Stream.Null));

        Assert.Equal(new[] { "head.fc.bias" }, e.Missing);
        Assert.Equal(new[] { "backbone.conv1.weight: expected [16, 3, 7, 7], found [16, 3, 3, 3]" }, e.Misshaped);
    }
}
