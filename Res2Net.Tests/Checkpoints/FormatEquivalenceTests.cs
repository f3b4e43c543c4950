using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// The same weights saved by PyTorch as an mmpretrain zip file, an official-layout legacy file and a safetensors file
/// (make_layouts.py) must give bit-identical logits, and those must match PyTorch's.
/// </summary>
public class FormatEquivalenceTests
{
    public static TheoryData<string, string, CheckpointFormat, string, string> Files => new()
    {
        { "tiny-plain", Fixtures.Path("tiny-plain.pth"), CheckpointFormat.TorchZip, "state_dict", "mmpretrain" },
        { "tiny-plain", Samples.Path("tiny-plain.official.legacy.pth"), CheckpointFormat.TorchLegacy, "none", "official/timm" },
        { "tiny-deep", Fixtures.Path("tiny-deep.pth"), CheckpointFormat.TorchZip, "state_dict", "mmpretrain" },
        { "tiny-deep", Samples.Path("tiny-deep.official-module.legacy.pth"), CheckpointFormat.TorchLegacy, "model", "official/timm (deep stem conv1.0-6, module. prefix)" },
        { "tiny-deep", Samples.Path("tiny-deep.official.safetensors"), CheckpointFormat.Safetensors, "none", "official/timm (deep stem conv1.0-6)" },
    };

    private static float[] Logits(string network, Func<CompiledNetwork, CheckpointLoadResult?> load)
    {
        var net = Res2NetModels.Create(network);
        load(net);
        var (input, _) = Fixtures.Npy(network + ".input.npy");
        return net.Forward(input, 2);
    }

    private static float[] Reference(string network) => Logits(network, n => n.LoadCheckpoint(Fixtures.Path(network + ".pth")));

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryFormatAndLayoutGivesIdenticalLogits(string network, string path, CheckpointFormat format, string wrapper, string layout)
    {
        CheckpointLoadResult? result = null;
        var logits = Logits(network, n => result = n.LoadCheckpoint(path));

        Assert.NotNull(result);
        Assert.Equal(format, result.Format);
        Assert.Equal(wrapper, result.Wrapper);
        Assert.Equal(layout, result.Layout.Description);
        Assert.Equal(path, result.SourcePath);
        Assert.Equal(Reference(network), logits);

        var (expected, _) = Fixtures.Npy(network + ".logits.npy");
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void StreamedAndMaterializedLoadsAgree(string network, string path, CheckpointFormat format, string wrapper, string layout)
    {
        _ = (format, wrapper, layout);
        var eager = Logits(network, n =>
        {
            var stateDict = CheckpointReader.Read(path);
            Assert.All(stateDict.Tensors, t => Assert.False(t.IsDeferred));
            n.Load(stateDict);
            return null;
        });
        Assert.Equal(Reference(network), eager);
    }

    [Fact]
    public void SafetensorsWrittenByUsFromALegacyFileLoadsIdentically()
    {
        string dir = TempFolders.Create("res2net-eq-").FullName;
        string output = Path.Combine(dir, "tiny-plain.safetensors");
        using (var legacy = CheckpointFile.Open(Samples.Path("tiny-plain.official.legacy.pth")))
            SafetensorsWriter.Write(output, legacy.StateDict.Tensors, new Dictionary<string, string> { ["format"] = "pt" });

        CheckpointLoadResult? result = null;
        var logits = Logits("tiny-plain", n => result = n.LoadCheckpoint(output));
        Assert.Equal(CheckpointFormat.Safetensors, result!.Format);
        Assert.Equal(KeyLayout.Official, result.Layout.Name);
        Assert.Equal(Reference("tiny-plain"), logits);

        // Every tensor, counters included, round-trips with its dtype.
        var zip = CheckpointReader.Read(Fixtures.Path("tiny-plain.pth"));
        var back = CheckpointReader.Read(output);
        Assert.Equal(zip.Count, back.Count);
        foreach (var tensor in back.Tensors)
        {
            var original = zip[KeyLayout.ToMmpretrainKey(tensor.Name, back.Layout)];
            Assert.Equal(original.SourceDType, tensor.SourceDType);
            Assert.Equal(original.Shape, tensor.Shape);
            Assert.Equal(original.Data, tensor.Data);
        }
    }

    [Fact]
    public void DeferredTensorsReadTheFileOnEveryAccessAndNotAfterDispose()
    {
        var file = CheckpointFile.Open(Samples.Path("tiny-plain.official.legacy.pth"));
        var tensor = file.StateDict["fc.weight"];
        Assert.True(tensor.IsDeferred);
        var first = tensor.Data;
        var second = tensor.Data;
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.False(tensor.Materialize().IsDeferred);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tensor.Data);
    }

    [Fact]
    public void LegacyPicklesLongerThanTheFirstReadAreReadInGrowingWindows()
    {
        var expected = CheckpointReader.Read(new MemoryStream(PyTorchSamples.LegacyProtocol2), "whole.pth");
        foreach (int window in new[] { 1, 7, 100, 1000 })
        {
            using var table = LegacyCheckpointReader.Open(new MemoryStream(PyTorchSamples.LegacyProtocol2), "small-window.pth", window);
            Assert.Equal(expected.Keys, table.Entries.Select(e => e.Name));
            foreach (var entry in table.Entries) Assert.Equal(expected[entry.Name].Data, entry.Read());
        }
    }
}
