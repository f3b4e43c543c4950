using System.Globalization;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Networks;
using Res2Net.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Forward;

/// <summary>
/// The differential test of issue 9: random small specs, compiled by the generator inside the test, must compute
/// what the reference interpreter computes (Reference/ReferenceRes2Net, itself checked against PyTorch). Each spec
/// gets random weights, bound through a safetensors file as a user's checkpoint would be, and a batch of random
/// images; the stem, the four stage outputs and the logits of the first image must be within
/// <see cref="Tolerances.ReferenceRelative"/> of the interpreter's, and every image's outputs in the batch must
/// be bit for bit those of the same image run alone.
/// <para>
/// A failure names the spec's seed and prints its JSON: set <see cref="Seed"/> to that seed and <see cref="SpecCount"/>
/// to 1 to run it alone, or put the JSON in a file under Res2Net.Tests/Networks/ to get its network as a class.
/// </para>
/// </summary>
public sealed class DifferentialTests(DifferentialTests.RandomNetworks networks, ITestOutputHelper output)
    : IClassFixture<DifferentialTests.RandomNetworks>
{
    /// <summary>The first spec's seed; spec <c>i</c> is drawn, weighted and fed from seed <c>Seed + i</c>.</summary>
    internal const int Seed = 20261201;

    /// <summary>Specs per run, compiled together. Each adds about 1 s of compilation and 1 s of interpretation.</summary>
    private const int SpecCount = 6;

    /// <summary>
    /// Images per forward. On two threads (this project's machines) a batch of 3 runs images 0 and 2 one after the
    /// other on one arena and image 1 on a replica's: an image computed after another, and one on a second arena,
    /// must both equal the image run alone.
    /// </summary>
    internal const int Batch = 3;

    public static TheoryData<int> Specs => new(Enumerable.Range(0, SpecCount));

    [Theory]
    [MemberData(nameof(Specs))]
    public void GeneratedForwardEqualsTheReference(int spec)
    {
        var (seed, architecture) = networks.Cases[spec];
        string json = networks.Json(spec);
        output.WriteLine($"seed {seed}: {json}"); // xunit reports it with any failure, an exception's included
        var network = networks.Generated.Create(ClassName(seed));
        Assert.True(architecture == SpecArchitecture.From(network.Info),
            $"the generated network describes itself as {SpecArchitecture.From(network.Info)}; its spec is\n{json}");

        var stateDict = BindRandomWeights(network, seed);
        var reference = new ReferenceRes2Net(architecture, stateDict);
        var input = RandomImages(network.Info, seed);

        var discrepancies = Compare(network, reference, input);

        foreach (var d in discrepancies) output.WriteLine("  " + d);
        var failed = discrepancies.Where(d => !d.Holds).ToList();
        Assert.True(failed.Count == 0, $"seed {seed}: the generated network differs from the reference\n" +
            string.Join("\n", failed) + "\nspec: " + json);
    }

    /// <summary>
    /// The test can fail: a network that loses one tap of a 3×3 conv (what an off-by-one padding or row offset does
    /// to the outputs that read it) misses the reference by far more than the tolerance. The weights are the
    /// reference's but for tap (0, 0) of input channel 0, zeroed for every output channel of one hierarchical conv.
    /// </summary>
    [Fact]
    public void ALostTapIsCaught()
    {
        var worst = RunTinyPlainWith(tensors =>
        {
            var weight = tensors["backbone.layer1.1.convs.1.weight"];
            var data = weight.Data.ToArray();
            for (int o = 0; o < weight.Shape[0]; o++) data[o * weight.Shape[1] * 9] = 0;
            tensors[weight.Name] = new CheckpointTensor(weight.Name, weight.Shape, weight.SourceDType, data);
        });

        output.WriteLine("without one tap: " + worst);
        Assert.True(worst.Ratio > 30, $"a lost tap should exceed the tolerance many times over: {worst}");
    }

    /// <summary>
    /// The test can fail: a network that runs a hierarchical block's splits in another order (split 0 through
    /// <c>convs.1</c> and <c>bns.1</c>, split 1 through <c>convs.0</c> and <c>bns.0</c>) misses the reference by far.
    /// </summary>
    [Fact]
    public void SplitsInAnotherOrderAreCaught()
    {
        var worst = RunTinyPlainWith(tensors =>
        {
            foreach (string module in new[] { "convs", "bns" })
            {
                string prefix = $"backbone.layer1.1.{module}.";
                foreach (var key in tensors.Keys.Where(k => k.StartsWith(prefix + "0.", StringComparison.Ordinal)).ToList())
                {
                    string other = prefix + "1." + key[(prefix.Length + 2)..];
                    (tensors[key], tensors[other]) = (tensors[other].WithName(key), tensors[key].WithName(other));
                }
            }
        });

        output.WriteLine("splits 0 and 1 swapped: " + worst);
        Assert.True(worst.Ratio > 30, $"swapped splits should exceed the tolerance many times over: {worst}");
    }

    /// <summary>
    /// tiny-plain (Res2Net.Tests/Networks, compiled with the tests: blocks [2, 1, 1, 1], scales 4, so layer1.1 is a
    /// hierarchical block) with random weights, its copy of them changed by <paramref name="corrupt"/>; the
    /// reference runs the unchanged ones. Returns the worst discrepancy of the first image.
    /// </summary>
    private static Discrepancy RunTinyPlainWith(Action<Dictionary<string, CheckpointTensor>> corrupt)
    {
        const int seed = Seed;
        var network = Res2NetModels.Create("tiny-plain");
        var weights = RandomWeights.Draw(network.Info, seed).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var reference = new ReferenceRes2Net(SpecArchitecture.From(network.Info), weights);
        var corrupted = new Dictionary<string, CheckpointTensor>(weights, StringComparer.Ordinal);
        corrupt(corrupted);
        network.Load(corrupted, "corrupted weights");
        var input = RandomImages(network.Info, seed);
        return Compare(network, reference, input).MaxBy(d => d.Ratio);
    }

    /// <summary>
    /// Draws the weights of <paramref name="network"/>, writes them as a safetensors file and loads that (the path
    /// a user's checkpoint takes), and returns what the file holds, read back by the checkpoint reader.
    /// </summary>
    internal static StateDict BindRandomWeights(CompiledNetwork network, int seed)
    {
        string path = Path.Combine(TempFolders.Create("differential-").FullName, "weights.safetensors");
        SafetensorsWriter.Write(path, RandomWeights.Draw(network.Info, seed));
        network.Load(path);
        return CheckpointReader.Read(path);
    }

    /// <summary>
    /// Runs the batch, then each image alone, and checks they agree bit for bit; returns how far the first image's
    /// stem, stages and logits are from the reference's.
    /// </summary>
    internal static List<Discrepancy> Compare(CompiledNetwork network, ReferenceRes2Net reference, float[] input)
    {
        var info = network.Info;
        int classes = info.NumClasses;
        var batchFeatures = new FeatureCapture(0, 1, 2, 3, 4);
        var batchLogits = new float[Batch * classes];
        network.Forward(input, Batch, batchLogits, batchFeatures);

        for (int n = 0; n < Batch; n++)
        {
            var features = new FeatureCapture(0, 1, 2, 3, 4);
            var logits = new float[classes];
            network.Forward(input.AsSpan(n * info.InputElements, info.InputElements), 1, logits, features);
            Assert.True(logits.AsSpan().SequenceEqual(batchLogits.AsSpan(n * classes, classes)),
                $"image {n}: logits in a batch of {Batch} are not those of the image alone");
            for (int f = 0; f <= 4; f++)
            {
                int size = info.Features[f].ElementCount;
                Assert.True(features[f].Data.AsSpan().SequenceEqual(batchFeatures[f].Data.AsSpan(n * size, size)),
                    $"image {n}: {info.Features[f].Name} in a batch of {Batch} is not that of the image alone");
            }
        }

        var expected = reference.Forward(input.AsSpan(0, info.InputElements));
        var discrepancies = new List<Discrepancy>();
        for (int f = 0; f <= 4; f++)
        {
            int size = info.Features[f].ElementCount;
            discrepancies.Add(Discrepancy.Of(info.Features[f].Name, batchFeatures[f].Data.AsSpan(0, size), expected.Feature(f).Data));
        }
        discrepancies.Add(Discrepancy.Of("logits", batchLogits.AsSpan(0, classes), expected.Logits, expected.LogitScale));
        return discrepancies;
    }

    /// <summary><see cref="Batch"/> images of values U(−2, 2), about the range of a normalized photo.</summary>
    internal static float[] RandomImages(NetworkInfo info, int seed)
    {
        var random = new Random(seed);
        var values = new float[Batch * info.InputElements];
        for (int i = 0; i < values.Length; i++) values[i] = -2f + 4f * random.NextSingle();
        return values;
    }

    internal static string ClassName(int seed) => "Random" + seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>The random specs of one run, drawn and compiled once for all the test's cases.</summary>
    public sealed class RandomNetworks : IDisposable
    {
        public RandomNetworks()
        {
            Cases = Enumerable.Range(Seed, SpecCount).Select(seed => (seed, RandomArchitecture.Draw(new Random(seed)))).ToList();
            Generated = new GeneratedNetworks(Enumerable.Range(0, SpecCount).Select(Json).ToList());
        }

        internal IReadOnlyList<(int Seed, SpecArchitecture Architecture)> Cases { get; }

        internal GeneratedNetworks Generated { get; }

        internal string Json(int spec)
        {
            string seed = Cases[spec].Seed.ToString(CultureInfo.InvariantCulture);
            return Cases[spec].Architecture.ToSpecJson("random-" + seed, ClassName(Cases[spec].Seed));
        }

        public void Dispose() => Generated.Dispose();
    }
}
