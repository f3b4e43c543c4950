using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// Which Res2Net a checkpoint holds, read from its shapes: recovered exactly from checkpoints PyTorch saved (every
/// layout and format, both stems, avg_down, scales 2 to 8, depth 50/101/152 and explicit blocks), and anything else
/// refused naming the first tensor that does not fit.
/// </summary>
public class ArchitectureInferenceTests
{
    public static TheoryData<string> Cases => new(InspectFixtures.Cases.Select(c => c.File));

    [Theory]
    [MemberData(nameof(Cases))]
    public void RecoversTheSpecThatPyTorchBuiltTheCheckpointFrom(string name)
    {
        var expected = InspectFixtures.Case(name);
        using var file = CheckpointFile.Open(expected.Path);

        var found = ArchitectureInference.Infer(file.StateDict);

        Assert.Equal(expected.Architecture, found);
        Assert.Equal(expected.Layout == "mmpretrain" ? KeyLayout.Mmpretrain : KeyLayout.Official, file.Layout.Name);
        Assert.Equal(expected.Layout == "official-module", file.Layout.ModulePrefix);
        Assert.Equal(expected.Architecture.Stem == Res2NetArchitecture.DeepStem && expected.Layout != "mmpretrain", file.Layout.DeepStem);
        Assert.Equal(expected.Wrapper, file.Wrapper);
        Assert.Equal(expected.Format switch { "zip" => CheckpointFormat.TorchZip, "legacy" => CheckpointFormat.TorchLegacy, _ => CheckpointFormat.Safetensors }, file.Format);
    }

    [Fact]
    public void TheCasesCoverWhatTheIssueAsksFor()
    {
        var all = InspectFixtures.Cases.Select(c => c.Architecture).ToList();
        Assert.Equal([2, 3, 4, 5, 6, 7, 8], all.Select(a => a.Scales).Distinct().Order());
        Assert.Equal([0, 50, 101, 152], all.Select(a => a.Depth).Distinct().Order());
        Assert.Contains(all, a => a.Stem == Res2NetArchitecture.DeepStem && a.AvgDown);
        Assert.Contains(all, a => a.Stem == Res2NetArchitecture.DeepStem && !a.AvgDown);
        Assert.Contains(all, a => a.Stem == Res2NetArchitecture.PlainStem && a.AvgDown);
        Assert.Contains(all, a => a.Stem == Res2NetArchitecture.PlainStem && !a.AvgDown);
        Assert.Equal(["mmpretrain", "official", "official-module", "timm"], InspectFixtures.Cases.Select(c => c.Layout).Distinct().Order());
        Assert.Equal(["legacy", "safetensors", "zip"], InspectFixtures.Cases.Select(c => c.Format).Distinct().Order());
    }

    /// <summary>The runtime's table of a network's tensors is the generator's, key for key and shape for shape.</summary>
    [Theory]
    [InlineData("tiny-plain")]
    [InlineData("tiny-deep")]
    [InlineData("res2net50-w14-s8_3rdparty_8xb32_in1k")]
    [InlineData("res2net50-w26-s8_3rdparty_8xb32_in1k")]
    [InlineData("res2net101-w26-s4_3rdparty_8xb32_in1k")]
    public void ArchitectureListsTheTensorsTheGeneratedNetworkBinds(string network)
    {
        var info = network.StartsWith("tiny", StringComparison.Ordinal)
            ? Res2Net.Tests.Networks.Res2NetModels.Create(network).Info
            : Res2Net.Models.Res2NetModels.Create(network).Info;
        var architecture = Res2NetArchitecture.Of(info);

        Assert.Equal(info.StateDict.Select(e => $"{e.Key} [{string.Join(", ", e.Shape)}]"),
            architecture.StateDict().Select(e => $"{e.Key} [{string.Join(", ", e.Shape)}]"));
        Assert.Equal(info.Params, architecture.Params);
    }

    [Theory]
    [InlineData("tiny-plain.pth", "tiny-plain")]
    [InlineData("tiny-deep.pth", "tiny-deep")]
    [InlineData("Samples/tiny-plain.official.legacy.pth", "tiny-plain")]
    [InlineData("Samples/tiny-deep.official-module.legacy.pth", "tiny-deep")]
    [InlineData("Samples/tiny-deep.official.safetensors", "tiny-deep")]
    public void RecoversTheTinyNetworksFromTheirCheckpoints(string checkpoint, string network)
    {
        string path = checkpoint.StartsWith("Samples/", StringComparison.Ordinal) ? Samples.Path(checkpoint["Samples/".Length..]) : Fixtures.Path(checkpoint);
        using var file = CheckpointFile.Open(path);
        Assert.Equal(Res2NetArchitecture.Of(Res2Net.Tests.Networks.Res2NetModels.Create(network).Info), ArchitectureInference.Infer(file.StateDict));
    }

    [Fact]
    public void DescribesTheNetworkInTheZoosWords()
    {
        var v1b = new Res2NetArchitecture([3, 4, 6, 3], 26, 4, Res2NetArchitecture.DeepStem, true, 64, 64, 1000);
        Assert.Equal("res2net50 w26 s4 with a deep stem and avg_down (v1b), 1000 classes", v1b.Description);
        Assert.Equal("res2net50-w26-s4", v1b.ShortName);
        var tiny = new Res2NetArchitecture([1, 2, 1, 1], 6, 3, Res2NetArchitecture.PlainStem, false, 16, 8, 1);
        Assert.Equal("res2net blocks [1, 2, 1, 1] w6 s3 with a plain 7×7 stem, stem channels 16, base channels 8, 1 class", tiny.Description);
        Assert.Equal("res2net-b1-2-1-1-w6-s3", tiny.ShortName);
        Assert.Equal(["blocks [1, 2, 1, 1] vs [3, 4, 6, 3]", "base width 6 vs 26", "scales 3 vs 4", "stem plain vs deep", "avg_down no vs yes",
                      "stem channels 16 vs 64", "base channels 8 vs 64", "classes 1 vs 1000"], tiny.DifferencesFrom(v1b));
        Assert.Empty(v1b.DifferencesFrom(v1b with { }));
    }

    // ---- What is not a Res2Net this project compiles: each named by the first tensor that does not fit, as the file names it.

    /// <summary>A fixture's tensors (shapes only, zero values) changed by <paramref name="edit"/>, as a state dict from "x.pth".</summary>
    private static StateDict Edited(string path, Func<List<(string Key, int[] Shape)>, IEnumerable<(string Key, int[] Shape)>> edit)
    {
        using var file = CheckpointFile.Open(path);
        var tensors = edit(file.StateDict.Tensors.Select(t => (t.Name, t.Shape)).ToList())
            .Select(t => new CheckpointTensor(t.Key, t.Shape, TensorDType.Float32, new float[t.Shape.Aggregate(1, (a, b) => a * b)]));
        return new StateDict(tensors, "x.pth", StateDict.NoWrapper);
    }

    private static string Refusal(StateDict stateDict)
    {
        var e = Assert.Throws<CheckpointException>(() => ArchitectureInference.Infer(stateDict));
        Assert.StartsWith("x.pth: not a Res2Net this project compiles: ", e.Message);
        return e.Message;
    }

    private static string Timm => InspectFixtures.Case("b1211-d-w1-s8.timm.pth").Path;

    private static string Mmpretrain => InspectFixtures.Case("r50-plain-w1-s4.mmpretrain.pth").Path;

    [Fact]
    public void AResNetIsNamedByItsConv2()
    {
        using var file = CheckpointFile.Open(InspectFixtures.Path("resnet-bottleneck.pth"));
        var e = Assert.Throws<CheckpointException>(() => ArchitectureInference.Infer(file.StateDict));
        Assert.Contains("'layer1.0.conv2.weight' [2, 2, 3, 3] is a ResNet Bottleneck's 3×3 conv", e.Message);
        Assert.Contains("this is a ResNet (or ResNeXt) checkpoint, not a Res2Net", e.Message);
    }

    [Fact]
    public void ABasicBlockIsNamedByItsConv1() =>
        Assert.Contains("'layer1.0.conv1.weight' [4, 6, 3, 3] is a 3×3 conv: this is a ResNet BasicBlock",
            Refusal(Edited(Timm, t => t.Select(x => x.Key == "layer1.0.conv1.weight" ? (x.Key, new[] { 4, 6, 3, 3 }) : x))));

    [Fact]
    public void GroupedSplitConvsAreARes2NeXt() =>
        Assert.Contains("'backbone.layer1.0.convs.0.weight' [2, 1, 3, 3] is a grouped conv (2 groups): this is a Res2NeXt",
            Refusal(Edited(Mmpretrain, t => t.Select(x =>
                x.Key == "backbone.layer1.0.conv1.weight" ? (x.Key, [8, 4, 1, 1]) : x.Key == "backbone.layer1.0.convs.0.weight" ? (x.Key, new[] { 2, 1, 3, 3 }) : x))));

    [Fact]
    public void ABackboneWithoutItsClassifierIsDescribedAndRefused()
    {
        string message = Refusal(Edited(Timm, t => t.Where(x => !x.Key.StartsWith("fc.", StringComparison.Ordinal))));
        Assert.Contains("it has no classifier 'fc.weight': it is the backbone of a res2net blocks [1, 2, 1, 1] w1 s8 with a deep stem and avg_down (v1b), " +
                        "stem channels 6, base channels 2 without its head", message);
    }

    [Fact]
    public void AnUnknownLayoutNamesItsFirstTensor() =>
        Assert.Contains("the first is 'encoder.cls_token' [1, 1, 8]",
            Refusal(Edited(Timm, t => t.Select(x => ("encoder." + x.Key, x.Shape)).Prepend(("encoder.cls_token", [1, 1, 8])))));

    [Fact]
    public void AnEmptyFileHoldsNoTensors() => Assert.EndsWith("it holds no tensors", Refusal(new StateDict([], "x.pth", StateDict.NoWrapper)));

    [Fact]
    public void ASqueezeAndExcitationModuleHasNoPlace() =>
        Assert.Contains("'layer2.0.se.fc1.weight' [4, 16, 1, 1] has no place in a res2net blocks [1, 2, 1, 1] w1 s8",
            Refusal(Edited(Timm, t => t.Append(("layer2.0.se.fc1.weight", [4, 16, 1, 1])))));

    [Fact]
    public void ATieredDeepStemIsNamedWithTheShapeASpecWouldHave() =>
        // timm's 'tiered' stems (24, 48, 64 channels) have no spec: the first two convs of a spec's deep stem have half.
        Assert.Contains("'conv1.0.weight' [2, 3, 3, 3] does not fit a res2net blocks [1, 2, 1, 1] w1 s8 with a deep stem and avg_down (v1b), " +
                        "stem channels 6, base channels 2, 7 classes, which has [3, 3, 3, 3] there (a deep stem's first two convs have half the stem's channels)",
            Refusal(Edited(Timm, t => t.Select(x => x.Key switch
            {
                "conv1.0.weight" => (x.Key, [2, 3, 3, 3]),
                "conv1.1.weight" or "conv1.1.bias" or "conv1.1.running_mean" or "conv1.1.running_var" => (x.Key, [2]),
                "conv1.3.weight" => (x.Key, new[] { 3, 2, 3, 3 }),
                _ => x,
            }))));

    [Fact]
    public void AMisShapedTensorDeepInsideIsNamedWithTheShapeExpected() =>
        Assert.Contains("'backbone.layer3.4.convs.1.weight' [4, 4, 1, 1] does not fit a res2net50 w1 s4", Refusal(Edited(Mmpretrain,
            t => t.Select(x => x.Key == "backbone.layer3.4.convs.1.weight" ? (x.Key, new[] { 4, 4, 1, 1 }) : x))));

    [Fact]
    public void AMissingTensorIsNamedAsTheFileWouldNameIt() =>
        Assert.EndsWith("'layer4.0.bns.6.running_var' is missing, which a res2net blocks [1, 2, 1, 1] w1 s8 with a deep stem and avg_down (v1b), " +
                        "stem channels 6, base channels 2, 7 classes has, [8]",
            Refusal(Edited(Timm, t => t.Where(x => x.Key != "layer4.0.bns.6.running_var"))));

    [Fact]
    public void AMissingDeepStemConvIsNamedInTheTimmLayout() =>
        Assert.Contains("'conv1.3.weight' is missing",
            Refusal(Edited(Timm, t => t.Where(x => x.Key != "conv1.3.weight"))));

    [Fact]
    public void AStageWithoutBlocksIsNamed() =>
        Assert.Contains("it has no layer4: 'backbone.layer4.0.conv1.weight' is missing",
            Refusal(Edited(Mmpretrain, t => t.Where(x => !x.Key.StartsWith("backbone.layer4.", StringComparison.Ordinal)))));

    [Fact]
    public void TimmAndMmpretrainPartOnlyWhenLayer1HasNoShortcut()
    {
        // b2111-deep has stem channels 8 = 4 × base channels 2: no shortcut conv in layer1.0, where timm's block differs.
        var corner = InspectFixtures.Case("b2111-deep-w3-s5.mmpretrain.pth").Architecture;
        Assert.Empty(ArchitectureInference.Caveats(corner, new KeyLayoutInfo(KeyLayout.Mmpretrain, false, true)));
        Assert.Contains("timm computes such a block as a 'normal' one", Assert.Single(ArchitectureInference.Caveats(corner, new KeyLayoutInfo(KeyLayout.Official, false, true))));
        foreach (var c in InspectFixtures.Cases.Where(c => c.Layout != "mmpretrain"))
            Assert.Empty(ArchitectureInference.Caveats(c.Architecture, new KeyLayoutInfo(KeyLayout.Official, false, false)));
    }

    // ---- A checkpoint that does not fit a network says what it is instead, in one message.

    [Fact]
    public void AMismatchNamesTheNetworkTheCheckpointHoldsAndWhatDiffers()
    {
        var network = Res2Net.Tests.Networks.Res2NetModels.Create("tiny-plain");
        var e = Assert.Throws<StateDictMismatchException>(() => network.Load(Timm));

        Assert.Contains("\nThis checkpoint is a res2net blocks [1, 2, 1, 1] w1 s8 with a deep stem and avg_down (v1b), stem channels 6, base channels 2, 7 classes.\n" +
                        "It differs from tiny-plain in blocks [1, 2, 1, 1] vs [2, 1, 1, 1], base width 1 vs 4, scales 8 vs 4, stem deep vs plain, " +
                        "avg_down yes vs no, stem channels 6 vs 16, base channels 2 vs 8, classes 7 vs 10.\n" +
                        $"`res2net inspect {Timm} --spec OUT.json` writes the spec that loads it.", e.Message);
        // The lists stay short once the sentence has said what is wrong: three of each, then a count.
        Assert.True(e.Message.Split('\n').Length <= 4 + 3 * (1 + 3 + 1), e.Message);
        Assert.Contains("  ... and ", e.Message);
        Assert.False(network.IsLoaded);
    }

    [Fact]
    public void TheInspectCommandInTheMessageQuotesAPathTheShellWouldSplit()
    {
        string dir = TempFolders.Create("res2net-mismatch-").FullName;
        string path = Path.Combine(dir, "it's mine.pth");
        File.Copy(Timm, path);
        var e = Assert.Throws<StateDictMismatchException>(() => Res2Net.Tests.Networks.Res2NetModels.Create("tiny-plain").Load(path));
        Assert.Contains($"`res2net inspect '{dir}/it'\\''s mine.pth' --spec OUT.json`", e.Message);
    }

    [Fact]
    public void AMismatchWithSomethingElseSaysWhyItIsNoRes2Net()
    {
        var network = Res2Net.Tests.Networks.Res2NetModels.Create("tiny-plain");
        var e = Assert.Throws<StateDictMismatchException>(() => network.Load(InspectFixtures.Path("resnet-bottleneck.pth")));
        Assert.Contains("Nor is it another Res2Net this project compiles: 'backbone.layer1.0.conv2.weight' [2, 2, 3, 3] is a ResNet Bottleneck's 3×3 conv", e.Message);
    }
}
