using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;
using Res2Net.Generator.Passes;
using Xunit;

namespace Res2Net.Tests.Generator.Passes;

/// <summary>Each pass on its own: a small graph in, the expected graph out.</summary>
public class PassTests
{
    private static readonly EquatableArray<Fusion> None = EquatableArray<Fusion>.Empty;

    private static EquatableArray<int> Ids(params int[] ids) => ids.ToEquatableArray();

    private static Node Op(OpKind kind, string module, int[] inputs, int[] outputs, OpAttributes? a = null, long flops = 0, params Fusion[] fused) =>
        new(kind, module, Ids(inputs), Ids(outputs), a ?? OpAttributes.None, 0, flops, fused.ToEquatableArray());

    private static NetworkGraph Graph(int values, int channels, params Node[] nodes) =>
        new(Enumerable.Range(0, values).Select(i => new Value(i, channels, 4, 4)).ToEquatableArray(), nodes.ToEquatableArray(),
            EquatableArray<FeatureTap>.Empty, 0, values - 1);

    private static readonly OpAttributes Conv3 = new(3, 1, 1, Key: "backbone.c");

    [Fact]
    public void FoldBatchNormAttachesTheNormToItsConvAndTakesItsOutput()
    {
        var g = Graph(4, 8,
            Op(OpKind.Conv, "c", new[] { 0 }, new[] { 1 }, Conv3, flops: 100),
            Op(OpKind.BatchNorm, "bn", new[] { 1 }, new[] { 2 }, new OpAttributes(Key: "backbone.bn"), flops: 10),
            Op(OpKind.Relu, "relu", new[] { 2 }, new[] { 3 }));
        var folded = FoldBatchNorm.Run(g);
        Assert.Equal(
            new[]
            {
                Op(OpKind.Conv, "c", new[] { 0 }, new[] { 2 }, Conv3, flops: 110, new FoldedBatchNorm("bn", "backbone.bn")),
                Op(OpKind.Relu, "relu", new[] { 2 }, new[] { 3 }),
            },
            folded.Nodes);
    }

    [Fact]
    public void FoldBatchNormLeavesANormWhoseConvOutputIsReadElsewhere()
    {
        var g = Graph(4, 8,
            Op(OpKind.Conv, "c", new[] { 0 }, new[] { 1 }, Conv3),
            Op(OpKind.BatchNorm, "bn", new[] { 1 }, new[] { 2 }, new OpAttributes(Key: "backbone.bn")),
            Op(OpKind.Add, "add", new[] { 2, 1 }, new[] { 3 }));
        Assert.Equal(g, FoldBatchNorm.Run(g));
    }

    [Fact]
    public void TheHierarchicalSumBecomesItsConvsPrologue()
    {
        // sp (2) + spx[i] (1) feeds a conv: the conv reads spx[i] and adds sp as it reads.
        var g = Graph(5, 8,
            Op(OpKind.Conv, "convs.0", new[] { 0 }, new[] { 2 }, Conv3),
            Op(OpKind.Add, "sp + spx[1]", new[] { 2, 1 }, new[] { 3 }),
            Op(OpKind.Conv, "convs.1", new[] { 3 }, new[] { 4 }, Conv3));
        var fused = FuseInputSum.Run(g);
        Assert.Equal(
            new[]
            {
                Op(OpKind.Conv, "convs.0", new[] { 0 }, new[] { 2 }, Conv3),
                Op(OpKind.Conv, "convs.1", new[] { 1 }, new[] { 4 }, Conv3, 0, new InputSum("sp + spx[1]", 2)),
            },
            fused.Nodes);
    }

    [Fact]
    public void ResidualAddThenReluRunInConv3sEpilogueInPyTorchsOrder()
    {
        var g = Graph(5, 8,
            Op(OpKind.Conv, "conv3", new[] { 0 }, new[] { 1 }, Conv3),
            Op(OpKind.Add, "out + identity", new[] { 1, 0 }, new[] { 2 }),
            Op(OpKind.Relu, "relu", new[] { 2 }, new[] { 3 }, flops: 7),
            Op(OpKind.Relu, "relu2", new[] { 3 }, new[] { 4 }));
        var fused = FuseEpilogue.Run(g);
        // The second ReLU is not fused: a fused ReLU ends the epilogue.
        Assert.Equal(
            new[]
            {
                Op(OpKind.Conv, "conv3", new[] { 0 }, new[] { 3 }, Conv3, 7, new ResidualAdd("out + identity", 0), new FusedRelu("relu")),
                Op(OpKind.Relu, "relu2", new[] { 3 }, new[] { 4 }),
            },
            fused.Nodes);
    }

    [Fact]
    public void AResidualWrittenAfterTheConvIsNotFused()
    {
        // The identity (2) is computed after the conv: fusing the add would read it before it exists.
        var g = Graph(4, 8,
            Op(OpKind.Conv, "conv3", new[] { 0 }, new[] { 1 }, Conv3),
            Op(OpKind.Conv, "downsample", new[] { 0 }, new[] { 2 }, Conv3),
            Op(OpKind.Add, "out + identity", new[] { 1, 2 }, new[] { 3 }));
        Assert.Equal(g, FuseEpilogue.Run(g));
    }

    [Fact]
    public void SplitsBecomeViewsAtTheirChannelOffsets()
    {
        var values = new[] { new Value(0, 6, 4, 4), new Value(1, 6, 4, 4), new Value(2, 2, 4, 4), new Value(3, 4, 4, 4) };
        var g = new NetworkGraph(values.ToEquatableArray(),
            new[] { Op(OpKind.Conv, "conv1", new[] { 0 }, new[] { 1 }, Conv3), Op(OpKind.Split, "split", new[] { 1 }, new[] { 2, 3 }) }.ToEquatableArray(),
            EquatableArray<FeatureTap>.Empty, 0, 3);
        var viewed = SplitsAsViews.Run(g);
        Assert.Single(viewed.Nodes);
        Assert.Equal(new ViewOf(1, 0), viewed.Values[2].View);
        Assert.Equal(new ViewOf(1, 2), viewed.Values[3].View);
        Assert.Equal((viewed.Values[1], 2), viewed.Root(3));
    }

    [Fact]
    public void ConcatPiecesAreWrittenIntoSlotsAndATrailingViewIsReadInPlace()
    {
        // conv1 → split (views 2, 3, 4); convs.0 and convs.1 write 5 and 6; cat(5, 6, 4) → conv3.
        var values = new List<Value> { new(0, 6, 4, 4), new(1, 6, 4, 4, null), new(2, 2, 4, 4, new ViewOf(1, 0)), new(3, 2, 4, 4, new ViewOf(1, 2)),
            new(4, 2, 4, 4, new ViewOf(1, 4)), new(5, 2, 4, 4), new(6, 2, 4, 4), new(7, 6, 4, 4), new(8, 8, 4, 4) };
        var conv1x1 = new OpAttributes(1, 1, 0, Key: "backbone.conv3");
        var g = new NetworkGraph(values.ToEquatableArray(), new[]
        {
            Op(OpKind.Conv, "conv1", new[] { 0 }, new[] { 1 }, Conv3),
            Op(OpKind.Conv, "convs.0", new[] { 2 }, new[] { 5 }, Conv3),
            Op(OpKind.Conv, "convs.1", new[] { 3 }, new[] { 6 }, Conv3),
            Op(OpKind.Concat, "cat", new[] { 5, 6, 4 }, new[] { 7 }),
            Op(OpKind.Conv, "conv3", new[] { 7 }, new[] { 8 }, conv1x1),
        }.ToEquatableArray(), EquatableArray<FeatureTap>.Empty, 0, 8);
        var slotted = ConcatIntoSlots.Run(g);
        Assert.DoesNotContain(slotted.Nodes, n => n.Kind == OpKind.Concat);
        Assert.Equal(new ViewOf(7, 0), slotted.Values[5].View);
        Assert.Equal(new ViewOf(7, 2), slotted.Values[6].View);
        Assert.Equal(4, slotted.Values[7].Channels); // the slots only; the last split stays where conv1 wrote it
        Assert.Equal(Ids(7, 4), slotted.Nodes.Single(n => n.Module == "conv3").Inputs);
    }

    [Fact]
    public void AConcatWhoseTrailingViewNoOneCanReadInPlaceStays()
    {
        var values = new List<Value> { new(0, 4, 4, 4), new(1, 2, 4, 4, new ViewOf(0, 0)), new(2, 2, 4, 4), new(3, 4, 4, 4), new(4, 4, 4, 4) };
        var g = new NetworkGraph(values.ToEquatableArray(), new[]
        {
            Op(OpKind.Conv, "c", new[] { 0 }, new[] { 2 }, Conv3),
            Op(OpKind.Concat, "cat", new[] { 2, 1 }, new[] { 3 }),
            Op(OpKind.Conv, "k3", new[] { 3 }, new[] { 4 }, Conv3), // a 3×3 reader cannot join two buffers
        }.ToEquatableArray(), EquatableArray<FeatureTap>.Empty, 0, 4);
        Assert.Equal(g, ConcatIntoSlots.Run(g));
    }

    [Fact]
    public void AnIdentityPoolIsDroppedAndItsCostKept()
    {
        var pool = new OpAttributes(1, 1, 0, PoolKind.AverageCeilExcludePad);
        var g = Graph(3, 8,
            Op(OpKind.AvgPool, "downsample.0", new[] { 0 }, new[] { 1 }, pool, flops: 128),
            Op(OpKind.Conv, "downsample.1", new[] { 1 }, new[] { 2 }, Conv3, flops: 1000));
        var dropped = DropIdentityPools.Run(g);
        Assert.Equal(new[] { Op(OpKind.Conv, "downsample.1", new[] { 0 }, new[] { 2 }, Conv3, 1128, new IdentityPool("downsample.0")) }, dropped.Nodes);
    }

    [Fact]
    public void LivenessSpansFromTheFirstWriteOfABufferOrItsViewsToTheLastRead()
    {
        var values = new List<Value> { new(0, 4, 4, 4), new(1, 4, 4, 4), new(2, 2, 4, 4, new ViewOf(1, 2)), new(3, 4, 4, 4), new(4, 4, 4, 4) };
        var g = new NetworkGraph(values.ToEquatableArray(), new[]
        {
            Op(OpKind.Conv, "a", new[] { 0 }, new[] { 1 }, Conv3),
            Op(OpKind.Conv, "b", new[] { 1 }, new[] { 3 }, Conv3),
            Op(OpKind.Conv, "c", new[] { 3 }, new[] { 4 }, Conv3, 0, new ResidualAdd("add", 2)),
        }.ToEquatableArray(), EquatableArray<FeatureTap>.Empty, 0, 4);
        var lives = Liveness.Run(g);
        // Buffer 1 is read through its view by the residual of layer 2; the logits (4) and the image (0) are not placed.
        Assert.Equal(new[] { new Liveness.Range(1, 64, 0, 2), new Liveness.Range(3, 64, 1, 2) }, lives);
        var placement = ArenaPlacement.Run(g);
        Assert.NotEqual(placement.Offsets[1], placement.Offsets[3]);
        Assert.Equal(placement.Offsets[1] + 2 * 16, placement.Offsets[2]);
    }

    /// <summary>
    /// A stage block after the earlier passes: the stem writes x (1, 6×8×8); conv1 stands for the concat's slots (2, 4×4×4);
    /// downsample.0 at stride 2 with its BatchNorm writes the identity (3, 8×4×4); conv3 adds it and applies ReLU (4).
    /// </summary>
    private static NetworkGraph StageBlock(Node? downsample = null, Node? conv3 = null, params Node[] more)
    {
        var values = new[] { new Value(0, 3, 16, 16), new Value(1, 6, 8, 8), new Value(2, 4, 4, 4), new Value(3, 8, 4, 4), new Value(4, 8, 4, 4), new Value(5, 8, 4, 4) };
        var nodes = new List<Node>
        {
            Op(OpKind.Conv, "stem", new[] { 0 }, new[] { 1 }, new OpAttributes(3, 2, 1, Key: "backbone.stem")),
            Op(OpKind.Conv, "conv1", new[] { 1 }, new[] { 2 }, new OpAttributes(3, 2, 1, Key: "backbone.conv1")),
            downsample ?? Shortcut,
            conv3 ?? Conv3WithResidual,
        };
        nodes.AddRange(more);
        return new NetworkGraph(values.ToEquatableArray(), nodes.ToEquatableArray(), EquatableArray<FeatureTap>.Empty, 0, 5);
    }

    private static readonly Node Shortcut = new(OpKind.Conv, "downsample.0", Ids(1), Ids(3), new OpAttributes(1, 2, 0, Key: "backbone.downsample.0"),
        48, 1536, new Fusion[] { new FoldedBatchNorm("downsample.1", "backbone.downsample.1") }.ToEquatableArray());

    private static readonly Node Conv3WithResidual = new(OpKind.Conv, "conv3", Ids(2), Ids(4), new OpAttributes(1, 1, 0, Key: "backbone.conv3"),
        32, 1024, new Fusion[] { new FoldedBatchNorm("bn3", "backbone.bn3"), new ResidualAdd("out + identity", 3), new FusedRelu("relu") }.ToEquatableArray());

    [Fact]
    public void TheShortcutConvJoinsConv3AsMoreInputChannelsInPlaceOfTheResidualAdd()
    {
        var fused = FuseShortcutConv.Run(StageBlock());
        var conv3 = fused.Nodes.Single(n => n.Module == "conv3");
        Assert.DoesNotContain(fused.Nodes, n => n.Module == "downsample.0");
        Assert.Equal(3, fused.Nodes.Count);
        Assert.Equal(
            Conv3WithResidual with
            {
                Inputs = Ids(2, 1),
                Params = 32 + 48,
                Flops = 1024 + 1536,
                Fused = new Fusion[] { new FoldedBatchNorm("bn3", "backbone.bn3"), new ShortcutConv("out + identity", Shortcut), new FusedRelu("relu") }.ToEquatableArray(),
            },
            conv3);
        Assert.Equal(new FoldedBatchNorm("downsample.1", "backbone.downsample.1"), ((ShortcutConv)conv3.Fused[1]).Norm);
        // x is now read by conv3, so it lives until conv3 and conv3's output cannot take its place.
        Assert.Contains(Liveness.Run(fused), r => r.Buffer == 1 && r.LastRead == 2);
    }

    public static TheoryData<string> Spoilers() => ["identity read twice", "identity tapped", "conv3 reads a tail", "shortcut has a ReLU",
        "shortcut is 3×3", "shortcut reads the image", "conv3 is 3×3", "conv3 sums its input"];

    [Theory]
    [MemberData(nameof(Spoilers))]
    public void AShortcutThatCannotJoinConv3StaysAConvOfItsOwn(string spoiler)
    {
        var g = spoiler switch
        {
            "identity read twice" => StageBlock(more: Op(OpKind.Conv, "other", new[] { 3 }, new[] { 5 }, Conv3)),
            "identity tapped" => StageBlock() with { Features = new[] { new FeatureTap(0, "x", 3) }.ToEquatableArray() },
            "conv3 reads a tail" => StageBlock(conv3: Conv3WithResidual with { Inputs = Ids(2, 2) }),
            "shortcut has a ReLU" => StageBlock(downsample: Shortcut with { Fused = Shortcut.Fused.Append(new FusedRelu("r")).ToEquatableArray() }),
            "shortcut is 3×3" => StageBlock(downsample: Shortcut with { Attributes = new OpAttributes(3, 2, 1, Key: "backbone.downsample.0") }),
            "shortcut reads the image" => StageBlock(downsample: Shortcut with { Inputs = Ids(0) }),
            "conv3 is 3×3" => StageBlock(conv3: Conv3WithResidual with { Attributes = new OpAttributes(3, 1, 1, Key: "backbone.conv3") }),
            _ => StageBlock(conv3: Conv3WithResidual with { Fused = Conv3WithResidual.Fused.Prepend(new InputSum("sp + spx[1]", 2)).ToEquatableArray() }),
        };
        Assert.Equal(g, FuseShortcutConv.Run(g));
    }
}
