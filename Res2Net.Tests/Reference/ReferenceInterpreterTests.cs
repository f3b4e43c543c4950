using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Reference;

/// <summary>
/// The reference interpreter against PyTorch: the tiny networks' logits and <c>extract_feat</c> outputs on the
/// checkpoints torch.save wrote (tools/reference/make_fixtures.py), and each pool on the odd shapes of the kernel
/// fixtures (make_kernel_fixtures.py). The differential test trusts the interpreter because of these.
/// </summary>
public class ReferenceInterpreterTests(ITestOutputHelper output)
{
    public static TheoryData<string> Networks => new() { "tiny-plain", "tiny-deep" };

    /// <summary>
    /// Both images of each fixture, every output within <see cref="Tolerances.ReferenceRelative"/>: PyTorch rounds
    /// in float32, the interpreter does not, so the difference is PyTorch's rounding alone.
    /// </summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void LogitsAndFeaturesEqualPyTorch(string name)
    {
        var info = Res2NetModels.All.Single(i => i.Name == name);
        var reference = new ReferenceRes2Net(SpecArchitecture.From(info), CheckpointReader.Read(Fixtures.Path(name + ".pth")));
        var (input, inputShape) = Fixtures.Npy(name + ".input.npy");
        Assert.Equal(new[] { 2, 3, info.InputHeight, info.InputWidth }, inputShape);
        string[] features = { "stem", "stage1", "stage2", "stage3", "stage4" };

        var discrepancies = new List<Discrepancy>();
        for (int n = 0; n < 2; n++)
        {
            var result = reference.Forward(input.AsSpan(n * info.InputElements, info.InputElements));
            for (int f = 0; f <= 4; f++)
            {
                var (expected, shape) = Fixtures.Npy($"{name}.{features[f]}.npy");
                Assert.Equal(shape[1..], result.Feature(f).Shape);
                int size = result.Feature(f).Data.Length;
                discrepancies.Add(Discrepancy.Of($"image {n} {features[f]}", expected.AsSpan(n * size, size), result.Feature(f).Data));
            }
            var (logits, _) = Fixtures.Npy(name + ".logits.npy");
            discrepancies.Add(Discrepancy.Of($"image {n} logits", logits.AsSpan(n * info.NumClasses, info.NumClasses), result.Logits, result.LogitScale));
        }

        foreach (var d in discrepancies) output.WriteLine(d.ToString());
        Assert.All(discrepancies, d => Assert.True(d.Holds, d.ToString()));
    }

    /// <summary>
    /// Every pool of every pool fixture: MaxPool2d(3, 2, 1), AvgPool2d(3, 1 or 2, 1) with the padding counted,
    /// avg_down's AvgPool2d(k, k, ceil_mode=True, count_include_pad=False) and the global average, on shapes whose
    /// last window hangs over the edge. PyTorch computed the averages in float64 and rounded them once (the maxima
    /// are exact), so each is within 2^-24 of its magnitude of the exact value; the interpreter's double error is
    /// far below, and 2^-45·max|x| covers it where an average cancels to nearly 0.
    /// </summary>
    [Fact]
    public void PoolsEqualPyTorch()
    {
        var files = Directory.GetFiles(Fixtures.Path("kernels"), "pool.*.npz");
        Assert.NotEmpty(files);
        int pools = 0;
        foreach (string file in files)
        {
            var arrays = Npz.Read(file);
            var (data, shape) = arrays["input"];
            var x = Tensor.FromFloats(data, shape[0], shape[1], shape[2]);
            double maxInput = data.Max(v => Math.Abs((double)v));
            foreach (var (pool, (expected, expectedShape)) in arrays.Where(a => a.Key != "input"))
            {
                var (actual, actualShape) = Pool(pool, x);
                string what = $"{Path.GetFileName(file)} {pool}";
                Assert.True(expectedShape.SequenceEqual(actualShape), $"{what}: shape [{string.Join(", ", actualShape)}], PyTorch [{string.Join(", ", expectedShape)}]");
                for (int i = 0; i < actual.Length; i++)
                {
                    double bound = Math.ScaleB(Math.Abs((double)expected[i]), -24) + Math.ScaleB(maxInput, -45);
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"{what}: output {i} is {actual[i]:R}, PyTorch {expected[i]:R}");
                }
                pools++;
            }
        }
        output.WriteLine($"{pools} pools in {files.Length} fixtures");
    }

    /// <summary>A fixture's pool name (<c>max_k3_s2_p1</c>, <c>avg_k3_s1_p1</c>, <c>avgceil_k2_s2_p0</c>, <c>global</c>) run by the interpreter.</summary>
    private static (double[] Values, int[] Shape) Pool(string pool, Tensor x)
    {
        if (pool == "global") return (GlobalAveragePool.Forward(x), new[] { x.Channels });
        var parts = pool.Split('_');
        int kernel = int.Parse(parts[1][1..]), stride = int.Parse(parts[2][1..]), padding = int.Parse(parts[3][1..]);
        var y = parts[0] switch
        {
            "max" => new MaxPool2d(kernel, stride, padding).Forward(x),
            "avg" => new AvgPool2d(kernel, stride, padding).Forward(x),
            "avgceil" => new AvgPool2d(kernel, stride, padding, ceilMode: true, countIncludePad: false).Forward(x),
            _ => throw new ArgumentException($"unknown pool '{pool}'", nameof(pool)),
        };
        return (y.Data, y.Shape);
    }

    /// <summary>Like PyTorch's strict load: a tensor missing, of another shape, or left over is an error naming it.</summary>
    [Fact]
    public void AStateDictThatDoesNotFitIsRefused()
    {
        var info = Res2NetModels.All.Single(i => i.Name == "tiny-deep");
        var architecture = SpecArchitecture.From(info);
        var stateDict = CheckpointReader.Read(Fixtures.Path("tiny-deep.pth")).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

        var missing = new Dictionary<string, CheckpointTensor>(stateDict);
        missing.Remove("backbone.layer2.1.bns.1.running_var");
        var e1 = Assert.Throws<KeyNotFoundException>(() => new ReferenceRes2Net(architecture, missing));
        Assert.Contains("'backbone.layer2.1.bns.1.running_var' (expected shape [12])", e1.Message);

        var extra = new Dictionary<string, CheckpointTensor>(stateDict);
        var conv = extra["backbone.layer1.0.downsample.1.weight"];
        extra["backbone.layer1.0.downsample.3.weight"] = conv.WithName("backbone.layer1.0.downsample.3.weight");
        var e2 = Assert.Throws<ArgumentException>(() => new ReferenceRes2Net(architecture, extra));
        Assert.Contains("does not use: backbone.layer1.0.downsample.3.weight", e2.Message);

        var misshaped = new Dictionary<string, CheckpointTensor>(stateDict);
        var fc = misshaped["head.fc.weight"];
        misshaped[fc.Name] = new CheckpointTensor(fc.Name, new[] { 5, fc.Shape[1] }, TensorDType.Float32, new float[5 * fc.Shape[1]]);
        var e3 = Assert.Throws<ArgumentException>(() => new ReferenceRes2Net(architecture, misshaped));
        Assert.Contains($"'head.fc.weight' has shape [5, {fc.Shape[1]}]; the architecture needs [7, {fc.Shape[1]}]", e3.Message);
    }
}
