using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Forward;

/// <summary>
/// Small networks (generated from Res2Net.Tests/Networks/*.json) run on checkpoints that torch.save wrote,
/// against the logits and stage outputs PyTorch computed for the same input.
/// </summary>
public class TinyNetworkTests
{
    public static TheoryData<string> Networks => new() { "tiny-plain", "tiny-deep" };

    private static CompiledNetwork Loaded(string name, string checkpoint)
    {
        var network = Res2NetModels.Create(name);
        network.Load(Fixtures.Path(checkpoint));
        return network;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void LogitsEqualPyTorch(string name)
    {
        var network = Loaded(name, name + ".pth");
        var (input, shape) = Fixtures.Npy(name + ".input.npy");
        var (expected, expectedShape) = Fixtures.Npy(name + ".logits.npy");
        Assert.Equal(new[] { 2, 3, network.Info.InputHeight, network.Info.InputWidth }, shape);

        var logits = network.Forward(input, batch: 2);

        Assert.Equal(new[] { 2, network.Info.NumClasses }, expectedShape);
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void StemAndStageOutputsEqualPyTorch(string name)
    {
        var network = Loaded(name, name + ".pth");
        var (input, _) = Fixtures.Npy(name + ".input.npy");
        var features = new FeatureCapture(0, 1, 2, 3, 4);
        network.Forward(input, 2, new float[2 * network.Info.NumClasses], features);

        string[] files = { "stem", "stage1", "stage2", "stage3", "stage4" };
        for (int i = 0; i <= 4; i++)
        {
            var (expected, expectedShape) = Fixtures.Npy($"{name}.{files[i]}.npy");
            var (actual, shape) = features[i];
            Assert.Equal(expectedShape, shape);
            var (diff, scale) = Fixtures.Compare(actual, expected);
            Assert.True(diff <= Tolerances.StageRelative * scale,
                $"{files[i]}: max |diff| = {diff:E2} > {Tolerances.StageRelative:E0} × max |PyTorch| ({scale:F3})");
        }
    }

    [Fact]
    public void BareStateDictGivesTheSameLogitsAsTheMmpretrainWrapper()
    {
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var wrapped = Loaded("tiny-plain", "tiny-plain.pth").Forward(input, 2);
        var bare = Loaded("tiny-plain", "tiny-plain.bare.pth").Forward(input, 2);
        Assert.Equal(wrapped, bare);
    }

    [Fact]
    public void BatchOfTwoEqualsTwoSingleImages()
    {
        var network = Loaded("tiny-deep", "tiny-deep.pth");
        var (input, _) = Fixtures.Npy("tiny-deep.input.npy");
        var both = network.Forward(input, 2);
        int n = network.Info.InputElements;
        var first = network.Forward(input.AsSpan(0, n), 1);
        var second = network.Forward(input.AsSpan(n, n), 1);
        Assert.Equal(both, first.Concat(second).ToArray());
    }

    [Fact]
    public void CheckpointThatDoesNotFitListsEveryProblem()
    {
        var stateDict = CheckpointReader.Read(Fixtures.Path("tiny-plain.pth"));
        var tensors = stateDict.Where(kv => kv.Key != "backbone.layer1.0.conv1.weight" && kv.Key != "head.fc.bias")
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors["backbone.extra.weight"] = new CheckpointTensor("backbone.extra.weight", new[] { 1 }, TensorDType.Float32, new float[1]);
        var fc = tensors["head.fc.weight"];
        tensors["head.fc.weight"] = new CheckpointTensor(fc.Name, new[] { 5, fc.Shape[1] }, TensorDType.Float32, new float[5 * fc.Shape[1]]);

        var network = Res2NetModels.Create("tiny-plain");
        var e = Assert.Throws<StateDictMismatchException>(() => network.Load(tensors, "edited.pth"));

        Assert.Equal(new[] { "backbone.layer1.0.conv1.weight", "head.fc.bias" }, e.Missing.OrderBy(k => k));
        Assert.Equal(new[] { "backbone.extra.weight" }, e.Unexpected);
        Assert.Equal(new[] { $"head.fc.weight: expected [10, {fc.Shape[1]}], found [5, {fc.Shape[1]}]" }, e.Misshaped);
        Assert.StartsWith("edited.pth: the checkpoint does not fit tiny-plain (2 missing, 1 unexpected, 1 mis-shaped)", e.Message);
        Assert.False(network.IsLoaded);
    }

    [Fact]
    public void WrongInputSizeNamesTheExpectedShape()
    {
        var network = Loaded("tiny-plain", "tiny-plain.pth");
        var e = Assert.Throws<ArgumentException>(() => network.Forward(new float[3 * 48 * 41], 1));
        Assert.Contains("expected batch 1 × 3 × 48 × 40 = 5760", e.Message);
    }

    [Fact]
    public void ForwardBeforeLoadSaysToLoad()
    {
        var network = Res2NetModels.Create("tiny-plain");
        var e = Assert.Throws<InvalidOperationException>(() => network.Forward(new float[network.Info.InputElements], 1));
        Assert.Contains("Load", e.Message);
    }

    [Fact]
    public void UnknownModelListsTheKnownOnes()
    {
        var e = Assert.Throws<UnknownModelException>(() => Res2NetModels.Create("resnet50"));
        Assert.Contains("tiny-plain", e.Message);
        Assert.Contains("tiny-deep", e.Message);
    }

    [Theory]
    [InlineData("tiny-plain")]
    [InlineData("tiny-deep")]
    public void EveryLayerOfTheTableIsStampedOnceByTheProfilersClock(string name)
    {
        // The benchmarks' in-forward profile assigns the i-th stamp to the i-th layer of the table.
        var network = Loaded(name, name + ".pth");
        var (input, _) = Fixtures.Npy(name + ".input.npy");
        var single = input.AsSpan(0, network.Info.InputElements).ToArray();
        var marks = new long[network.Info.Layers.Count + 2];
        LayerClock.Arm(marks);
        try
        {
            network.Forward(single, 1);
        }
        finally
        {
            LayerClock.Disarm();
        }
        Assert.All(marks.AsSpan(0, marks.Length - 1).ToArray(), m => Assert.NotEqual(0, m));
        Assert.Equal(0, marks[^1]);
        for (int i = 1; i < marks.Length - 1; i++) Assert.True(marks[i] >= marks[i - 1]);
    }

    [Fact]
    public void ForwardAllocatesNothingOnceWarm()
    {
        var network = Loaded("tiny-deep", "tiny-deep.pth");
        var (input, _) = Fixtures.Npy("tiny-deep.input.npy");
        var logits = new float[2 * network.Info.NumClasses];
        network.Forward(input, 2, logits); // JIT and worker threads start here

        // This thread's count: other test classes run (and allocate) in parallel; the workers never allocate. The worker
        // pool is the process's: when another test's forward held it during the warm-up, that forward ran inline, and the
        // first one here that gets the pool starts its threads (a one-time allocation). So up to three rounds of five
        // forwards: a forward path that allocates would allocate in every round.
        var rounds = new List<long>();
        for (int round = 0; round < 3 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) network.Forward(input, 2, logits);
            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(rounds[^1] == 0, $"bytes allocated per round of 5 forwards: {string.Join(", ", rounds)}");
    }
}
