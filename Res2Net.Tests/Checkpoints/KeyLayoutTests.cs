using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>Key layouts are recognised from the names alone and mapped onto mmpretrain's, which the networks bind.</summary>
public class KeyLayoutTests
{
    [Theory]
    [InlineData(new[] { "backbone.conv1.weight", "head.fc.weight" }, "mmpretrain", false, false)]
    [InlineData(new[] { "module.backbone.conv1.weight", "module.head.fc.bias" }, "mmpretrain", true, false)]
    [InlineData(new[] { "conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "fc.weight" }, "official", false, false)]
    [InlineData(new[] { "conv1.0.weight", "conv1.1.weight", "bn1.weight", "fc.bias" }, "official", false, true)]
    [InlineData(new[] { "module.conv1.0.weight", "module.fc.bias" }, "official", true, true)]
    [InlineData(new[] { "encoder.blocks.0.weight" }, "unknown", false, false)]
    [InlineData(new string[0], "unknown", false, false)]
    public void LayoutIsDetectedFromTheKeys(string[] keys, string name, bool module, bool deep)
    {
        var layout = KeyLayout.Detect(keys);
        Assert.Equal(new KeyLayoutInfo(name, module, deep), layout);
    }

    [Theory]
    [InlineData("conv1.0.weight", "backbone.stem.0.conv.weight")]
    [InlineData("conv1.1.running_var", "backbone.stem.0.bn.running_var")]
    [InlineData("conv1.3.weight", "backbone.stem.1.conv.weight")]
    [InlineData("conv1.4.bias", "backbone.stem.1.bn.bias")]
    [InlineData("conv1.6.weight", "backbone.stem.2.conv.weight")]
    [InlineData("bn1.num_batches_tracked", "backbone.stem.2.bn.num_batches_tracked")]
    [InlineData("layer1.0.bn1.weight", "backbone.layer1.0.bn1.weight")]
    [InlineData("layer2.0.downsample.1.weight", "backbone.layer2.0.downsample.1.weight")]
    [InlineData("layer3.1.bns.2.running_mean", "backbone.layer3.1.bns.2.running_mean")]
    [InlineData("fc.weight", "head.fc.weight")]
    public void OfficialDeepStemNamesMapToMmpretrains(string official, string mmpretrain)
    {
        var layout = new KeyLayoutInfo(KeyLayout.Official, ModulePrefix: false, DeepStem: true);
        Assert.Equal(mmpretrain, KeyLayout.ToMmpretrainKey(official, layout));
        var withModule = layout with { ModulePrefix = true };
        Assert.Equal(mmpretrain, KeyLayout.ToMmpretrainKey("module." + official, withModule));
        // And back, so that messages about a tensor the file lacks name it as the file would.
        Assert.Equal(official, KeyLayout.ToLayoutKey(mmpretrain, layout));
        Assert.Equal("module." + official, KeyLayout.ToLayoutKey(mmpretrain, withModule));
        Assert.Equal(mmpretrain, KeyLayout.ToLayoutKey(mmpretrain, new KeyLayoutInfo(KeyLayout.Mmpretrain, false, false)));
    }

    [Fact]
    public void PlainStemBn1StaysBn1()
    {
        var layout = new KeyLayoutInfo(KeyLayout.Official, false, false);
        Assert.Equal("backbone.bn1.weight", KeyLayout.ToMmpretrainKey("bn1.weight", layout));
        Assert.Equal("backbone.conv1.weight", KeyLayout.ToMmpretrainKey("conv1.weight", layout));
        Assert.Equal("bn1.weight", KeyLayout.ToLayoutKey("backbone.bn1.weight", layout));
    }

    [Fact]
    public void TheOfficialLayoutIsReportedAsTimmsToo() =>
        // timm's Res2Net is a port of the official code and names every tensor alike: one layout, named for both.
        Assert.Equal("official/timm (deep stem conv1.0-6)", KeyLayout.Detect(["conv1.0.weight", "layer1.0.convs.0.weight", "fc.weight"]).Description);

    [Fact]
    public void KeysThatCollideAfterMappingAreAnError()
    {
        var t = new CheckpointTensor("x", [1], TensorDType.Float32, [0f]);
        var entries = new[] { KeyValuePair.Create("module.fc.weight", t), KeyValuePair.Create("module.fc.weight2", t) };
        Assert.Equal(2, KeyLayout.ToMmpretrain(entries, KeyLayout.Detect(entries.Select(e => e.Key)), "x.pth").Count);
        // 'bn1' of a deep stem and an explicit 'stem.2.bn' cannot both be kept.
        var mixed = new[] { KeyValuePair.Create("conv1.0.weight", t), KeyValuePair.Create("bn1.weight", t), KeyValuePair.Create("stem.2.bn.weight", t) };
        var e = Assert.Throws<CheckpointException>(() => KeyLayout.ToMmpretrain(mixed, KeyLayout.Detect(mixed.Select(m => m.Key)), "mixed.pth"));
        Assert.Contains("'bn1.weight' and 'stem.2.bn.weight' both map to 'backbone.stem.2.bn.weight'", e.Message);
    }

    [Fact]
    public void UnknownLayoutPassesThroughSoTheStrictCheckNamesTheKeys()
    {
        var network = Res2NetModels.Create("tiny-plain");
        var stateDict = new StateDict([new CheckpointTensor("encoder.w", [1], TensorDType.Float32, [0f])], "odd.pth", StateDict.NoWrapper);
        Assert.Equal(KeyLayout.Unknown, stateDict.Layout.Name);
        var e = Assert.Throws<StateDictMismatchException>(() => network.Load(stateDict));
        Assert.Equal(["encoder.w"], e.Unexpected);
    }
}
