using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Forward;

/// <summary>
/// The three full-size seed models on seeded weights (docs/seeded-weights.md), against PyTorch run on the
/// same weights by tools/reference/make_fixtures.py: the real architectures end to end without 100 MB files.
/// </summary>
public class SeededNetworkTests
{
    public static TheoryData<string> SeedModels => new()
    {
        "res2net50-w14-s8_3rdparty_8xb32_in1k",
        "res2net50-w26-s8_3rdparty_8xb32_in1k",
        "res2net101-w26-s4_3rdparty_8xb32_in1k",
    };

    [Fact]
    public void RuleReproducesPyTorchsTestVectorsBitForBit()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("seeded", "rule-vectors.json")));
        int checkedKeys = 0;
        foreach (var v in doc.RootElement.GetProperty("vectors").EnumerateArray())
        {
            string key = v.GetProperty("key").GetString()!;
            var shape = v.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(Convert.ToUInt32(v.GetProperty("seed").GetString(), 16), SeededWeights.Seed(key));
            var bits = v.GetProperty("bits").EnumerateArray().Select(e => Convert.ToUInt32(e.GetString(), 16)).ToArray();
            var values = SeededWeights.Draw(key, shape);
            for (int i = 0; i < bits.Length; i++) Assert.Equal(bits[i], BitConverter.SingleToUInt32Bits(values[i]));
            checkedKeys++;
        }
        Assert.True(checkedKeys >= 4);
    }

    [Theory]
    [MemberData(nameof(SeedModels))]
    public void LogitsAndStagesEqualPyTorch(string name)
    {
        var network = Res2NetModels.Create(name);
        network.Load(SeededWeights.StateDict(network.Info), "seeded");
        var features = new FeatureCapture(1, 2, 3, 4);
        var logits = new float[network.Info.NumClasses];

        network.Forward(SeededWeights.Input(network.Info), 1, logits, features);

        AssertPyTorchsOutputs(name, logits, features);
    }

    /// <summary>
    /// One image's logits and stage outputs 1–4 against PyTorch's on the seeded weights and input, within the CPU path's
    /// tolerances (the stages by the fixtures' evenly spaced samples); the device tests hold their forward to the same.
    /// </summary>
    internal static void AssertPyTorchsOutputs(string name, float[] logits, FeatureCapture features)
    {
        var (expected, _) = Fixtures.Npy("seeded", name + ".logits.npy");
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");

        for (int stage = 1; stage <= 4; stage++)
        {
            var (sample, _) = Fixtures.Npy("seeded", $"{name}.stage{stage}.sample.npy");
            var (data, _) = features[stage];
            long step = data.Length / sample.Length;
            var actual = Enumerable.Range(0, sample.Length).Select(i => data[i * step]).ToArray();
            var (stageDiff, scale) = Fixtures.Compare(actual, sample);
            Assert.True(stageDiff <= Tolerances.StageRelative * scale,
                $"layer{stage}: max |diff| = {stageDiff:E2} > {Tolerances.StageRelative:E0} × {scale:F3}");
        }
    }
}
