using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Inference;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Datasets;

/// <summary>
/// <see cref="DatasetEvaluator.FlipTta"/> against mmpretrain's <c>--tta</c> (AverageClsScoreTTA over the crop and its
/// mirror) computed in PyTorch by make_tta_fixtures.py: tiny-plain on the 300 generated images, whose sizes give both
/// even and odd crop margins (where mirroring the crop and cropping the mirror differ by a column).
/// </summary>
/// <remarks>
/// Scores: each averaged score within <see cref="ImageClassifierTests.ScoreTolerance"/> of PyTorch's; a logit error of
/// 2e-3 moves each view's score by at most a factor e^{±4e-3}, so their mean by at most the same factor. Rankings and
/// counts: compared exactly where the fixture script found them certain under that bound (285 of the 300 rankings,
/// the counts of 294 images); the other images still have their scores checked.
/// </remarks>
public class FlipTtaTests(ITestOutputHelper log)
{
    private static readonly Lazy<CompiledNetwork> Network = new(DatasetFixtures.TinyPlain);

    private static EvaluationResult Evaluate(int batchSize) =>
        new DatasetEvaluator(Network.Value) { FlipTta = true, BatchSize = batchSize }
            .Evaluate(ImageDataset.Open(DatasetFixtures.DataDir("val"), DatasetFixtures.AnnFile("val")));

    [Theory]
    [InlineData(32)]
    [InlineData(7)]   // a last batch of 6: the mirrors follow the valid crops of a partial batch
    public void ScoresTop5AndAccuracyAreAverageClsScoreTtasInPyTorch(int batchSize)
    {
        var expected = TtaFixtures.Images("val");
        var (scores, shape) = TtaFixtures.Scores("val");
        int classes = shape[1];

        var result = Evaluate(batchSize);

        Assert.Equal(expected.Count, result.Evaluated);
        Assert.NotEqual(DatasetFixtures.Accuracy("val").Top1Correct, TtaFixtures.Accuracy("val").Top1Correct); // TTA matters on this set
        int decisive = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, s) = (expected[i], result.Samples[i]);
            Assert.Equal(e.File, s.RelativePath);
            for (int j = 0; j < s.TopK.Length; j++)
            {
                double reference = scores[i * classes + s.TopK[j]];
                maxDiff = Math.Max(maxDiff, Math.Abs(s.Scores[j] - reference));
                Assert.True(Math.Abs(s.Scores[j] - reference) <= ImageClassifierTests.ScoreTolerance(reference),
                    $"{e.File} class {s.TopK[j]}: averaged score {s.Scores[j]} vs PyTorch {reference}");
            }
            if (!e.Decisive) continue;
            Assert.Equal(e.TopK, s.TopK);
            decisive++;
        }
        Assert.Equal(285, decisive);
        log.WriteLine($"max |averaged score - PyTorch| over the top 5: {maxDiff:E1}; top-1 {result.Top1Correct}, top-5 {result.Top5Correct}");

        // The counts over the images whose counting is certain, and the whole set's accuracy, which they decide here.
        var certain = expected.Select((e, i) => (e, s: result.Samples[i])).Where(p => p.e.CountDecided).ToArray();
        Assert.Equal(certain.Count(p => p.e.TopK[0] == p.e.Label), certain.Count(p => p.s.IsCorrect(1)));
        Assert.Equal(certain.Count(p => p.e.TopK.Contains(p.e.Label)), certain.Count(p => p.s.IsCorrect(5)));
        var (top1Correct, top5Correct, _, _) = TtaFixtures.Accuracy("val");
        Assert.InRange(result.Top1Correct, top1Correct - (expected.Count - certain.Length), top1Correct + (expected.Count - certain.Length));
        Assert.InRange(result.Top5Correct, top5Correct - (expected.Count - certain.Length), top5Correct + (expected.Count - certain.Length));
    }
}
