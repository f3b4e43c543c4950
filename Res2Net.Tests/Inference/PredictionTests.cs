using Res2Net.Runtime.Inference;
using Xunit;

namespace Res2Net.Tests.Inference;

/// <summary>Softmax and top-k ranking, on hand-made logits whose answers are evident.</summary>
public class PredictionTests
{
    [Fact]
    public void TopIndicesRanksLargestFirstWithTiesToTheLowerLabel()
    {
        float[] logits = [0.5f, 3f, -1f, 3f, 2f, float.NaN, 2.5f];
        Assert.Equal(new[] { 1, 3, 6, 4, 0 }, Prediction.TopIndices(logits, 5));
        Assert.Equal(new[] { 1 }, Prediction.TopIndices(logits, 1));
        Assert.Equal(new[] { 1, 3, 6, 4, 0, 2, 5 }, Prediction.TopIndices(logits, 100));   // NaN last, k clamped
        Assert.Equal(new[] { 1 }, Prediction.TopIndices(logits, 0));                        // at least one
    }

    [Fact]
    public void FromLogitsFillsEveryFieldOfInferenceModelsResult()
    {
        float[] logits = [1f, 3f, 2f];
        var p = Prediction.FromLogits(logits, ["a", "b", "c"], k: 2);
        // softmax([1, 3, 2]) = e^x / (e + e^3 + e^2)
        double sum = Math.E + Math.Exp(3) + Math.Exp(2);
        Assert.Equal(1, p.PredLabel);
        Assert.Equal("b", p.PredClass);
        Assert.Equal(Math.Exp(3) / sum, p.PredScore, 6);
        Assert.Equal(new[] { Math.E / sum, Math.Exp(3) / sum, Math.Exp(2) / sum }, p.PredScores.Select(x => (double)x), new ToleranceComparer(1e-6));
        Assert.Equal(new[] { 1, 2 }, p.TopK.Select(c => c.Label));
        Assert.Equal(new[] { "b", "c" }, p.TopK.Select(c => c.ClassName));
    }

    [Fact]
    public void SoftmaxDoesNotOverflowOnLargeLogits()
    {
        var s = Prediction.Softmax([1000f, 1000f, -1000f]);
        Assert.Equal(new[] { 0.5f, 0.5f, 0f }, s);
    }

    [Fact]
    public void MismatchedClassNamesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Prediction.FromLogits([1f, 2f], ["only one"]));
        Assert.Contains("1 class names for 2 logits", e.Message);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
