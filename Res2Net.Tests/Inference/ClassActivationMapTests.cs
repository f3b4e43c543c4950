using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Inference;

/// <summary>
/// <see cref="ImageClassifier.ClassActivationMap(string, int?)"/> against PyTorch: tools/reference/make_cam_fixtures.py
/// computes Σ_k fc.weight[c, k] · layer4[k] for the seeded res2net50-w14-s8 on two demo photos, for each photo's
/// top-1, its rank-2 class and class 0.
/// </summary>
public class ClassActivationMapTests
{
    private static readonly Lazy<CompiledNetwork> Seeded = new(() =>
    {
        var network = Res2NetModels.Create(SeededCheckpoint.Model);
        network.Load(SeededWeights.StateDict(network.Info), "seeded");
        return network;
    });

    private static ImageClassifier Classifier => new(Seeded.Value, ClassNames.For(Seeded.Value.Info));

    /// <summary>
    /// Tolerance: each map value is a logit before the average pooling (the same 2048-channel dot product with the same
    /// weight row, on one position instead of the mean of 49), so it is held to the logits' promise,
    /// <see cref="Tolerances.LogitsAbsolute"/> (2e-3), against map values of 0.1 to 7. Both sides sum in double, so the
    /// difference is layer4's alone: measured 2e-6 to 5e-6 (2026-12-01). The rigorous worst case, StageRelative × max
    /// |layer4| × Σ_k |w[c, k]| ≈ 3e-2, assumes every channel's error has the same sign and is too loose to catch much;
    /// 2e-3 still catches a wrong class row, a transposed or shifted map (all err by 1e-1 or more).
    /// </summary>
    [Fact]
    public void MapsAgreeWithPyTorchOnDemoPhotos()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("cam", "seeded-demo.cam.json")));
        var (expected, shape) = Fixtures.Npy("cam", "seeded-demo.cam.npy");
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(new[] { rows.Length, 7, 7 }, shape);

        var classifier = Classifier;
        for (int r = 0; r < rows.Length; r++)
        {
            string file = rows[r].GetProperty("file").GetString()!;
            int label = rows[r].GetProperty("label").GetInt32();
            var map = classifier.ClassActivationMap(Path.Combine(SeededCheckpoint.DemoDir, file), label);

            Assert.Equal(label, map.Label);
            Assert.Equal(new[] { 7, 7 }, map.Shape);
            var (diff, scale) = Fixtures.Compare(map.Data, expected.AsSpan(r * 49, 49));
            Assert.True(diff <= Tolerances.LogitsAbsolute, $"{file} class {label}: max |CAM − PyTorch| = {diff:E2} (map scale {scale:F3})");
        }
    }

    [Fact]
    public void DefaultClassIsThePredictionAndTheMapsMeanPlusBiasIsItsLogit()
    {
        var classifier = Classifier;
        string dog = Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg");
        var map = classifier.ClassActivationMap(dog);
        var prediction = classifier.Predict(dog);
        Assert.Equal(prediction.PredLabel, map.Label);
        Assert.Equal(ClassNames.ImageNet1k[map.Label], map.ClassName);

        // Global average pooling is linear: mean(CAM_c) + b_c = logit_c (Zhou et al. 2016, eq. 1-2).
        float bias = SeededWeights.StateDict(Seeded.Value.Info)["head.fc.bias"].Data[map.Label];
        var logits = classifier.Run([InferenceInput.FromFile(dog)]).LogitsOf(0);
        Assert.Equal(logits[map.Label], map.Data.Average() + bias, 1e-4);
    }

    [Fact]
    public void ClassifierWeightsAreTheCheckpointsFcRows()
    {
        var tensors = SeededWeights.StateDict(Seeded.Value.Info);
        var fc = tensors["head.fc.weight"].Data;
        foreach (int label in new[] { 0, 417, 999 })
        {
            var (row, bias) = Seeded.Value.ClassifierWeights(label);
            Assert.Equal(fc.AsSpan(label * 2048, 2048).ToArray(), row);
            Assert.Equal(tensors["head.fc.bias"].Data[label], bias);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Seeded.Value.ClassifierWeights(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => Classifier.ClassActivationMap(Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), -1));
    }

    [Fact]
    public void NormalizedMapIsReluThenMinMaxScaled()
    {
        var prediction = Prediction.FromLogits(new float[] { 1, 0 }, ["a", "b"]);
        var map = new ActivationMap("x", 0, "a", [-2f, 1f, 3f, 5f], [2, 2], prediction);
        // pytorch-grad-cam: max(cam, 0), then (cam − min) / max: [0, 1, 3, 5] → [0, 0.2, 0.6, 1].
        Assert.Equal(new[] { 0f, 0.2f, 0.6f, 1f }, map.Normalized());
        Assert.Equal(new[] { 0f, 0f }, (map with { Data = [-1f, -3f], Shape = [1, 2] }).Normalized());
    }
}
