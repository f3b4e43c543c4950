using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Datasets;

/// <summary>
/// Sharded evaluation in the library: <see cref="ImageDataset.Shard"/> cuts a listing into every-N-th parts and
/// <see cref="EvaluationResult.Combine"/> puts their results back together, which must be the unsharded run's exactly
/// (and so PyTorch's accuracy on the generated sets, as <see cref="DatasetEvaluatorTests"/> checks for the unsharded run).
/// </summary>
public class ShardedEvaluationTests
{
    private static readonly Lazy<CompiledNetwork> Network = new(DatasetFixtures.TinyPlain);

    private static ImageDataset Open(string set) =>
        set == "val" ? ImageDataset.Open(DatasetFixtures.DataDir("val"), DatasetFixtures.AnnFile("val")) : ImageDataset.Open(DatasetFixtures.DataDir(set));

    [Theory]
    [InlineData("val", 3)]      // 300 images, annotation file
    [InlineData("folder", 4)]   // 60 images in class folders, two of them unreadable (skipped)
    public void CombinedShardsEqualTheUnshardedRunExactly(string set, int shards)
    {
        var dataset = Open(set);
        var whole = new DatasetEvaluator(Network.Value) { BatchSize = 32 }.Evaluate(dataset);
        // Other batch sizes in the shards: an image's logits do not depend on its batch.
        var parts = Enumerable.Range(0, shards).Select(k => new DatasetEvaluator(Network.Value) { BatchSize = 5 + k }.Evaluate(dataset.Shard(k, shards))).ToList();

        var merged = EvaluationResult.Combine(parts);

        Assert.Equal(whole.Total, merged.Total);
        Assert.Equal(whole.Evaluated, merged.Evaluated);
        Assert.Equal(whole.Top1Correct, merged.Top1Correct);
        Assert.Equal(whole.Top5Correct, merged.Top5Correct);
        Assert.Equal(whole.FormatMetrics(), merged.FormatMetrics());
        var (count, top1Correct, top5Correct, _, _) = DatasetFixtures.Accuracy(set);
        Assert.Equal((count, top1Correct, top5Correct), (merged.Evaluated, merged.Top1Correct, merged.Top5Correct));
        Assert.Equal(whole.Samples.Select(s => (s.Index, s.RelativePath, s.Label)), merged.Samples.Select(s => (s.Index, s.RelativePath, s.Label)));
        for (int i = 0; i < whole.Samples.Count; i++)
        {
            Assert.Equal(whole.Samples[i].TopK, merged.Samples[i].TopK);
            Assert.Equal(whole.Samples[i].Scores.Select(BitConverter.SingleToInt32Bits), merged.Samples[i].Scores.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(whole.Skipped.Select(s => (s.Index, s.RelativePath, s.Reason)), merged.Skipped.Select(s => (s.Index, s.RelativePath, s.Reason)));
        if (set == "folder") Assert.Equal(2, merged.Skipped.Count);
    }

    [Fact]
    public void AShardIsEveryNthSampleAndKeepsTheListingsHash()
    {
        var dataset = Open("val");
        var shard = dataset.Shard(1, 7);

        Assert.Equal(Enumerable.Range(0, 300).Where(i => i % 7 == 1), shard.Samples.Select(s => s.Index));
        Assert.Equal(dataset.Samples.Where((_, i) => i % 7 == 1).Select(s => s.RelativePath), shard.Samples.Select(s => s.RelativePath));
        Assert.Equal(new DatasetShard(1, 7, 300), shard.Sharding);
        Assert.Equal(dataset.ListingSha256, shard.ListingSha256);
        Assert.NotEqual(dataset.ListingSha256, Open("folder").ListingSha256);
        Assert.Contains("shard 1/7, 43 of 300 images", shard.ToString());
        Assert.Equal(300, Enumerable.Range(0, 7).Sum(k => dataset.Shard(k, 7).Samples.Count));
    }

    [Fact]
    public void BadShardsAreRefused()
    {
        var dataset = Open("val");
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Shard(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Shard(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Shard(0, 0));
        Assert.Throws<InvalidOperationException>(() => dataset.Shard(0, 2).Shard(0, 2));
        var part = new DatasetEvaluator(Network.Value).Evaluate(Open("val").Shard(0, 100));
        Assert.Throws<ArgumentException>(() => EvaluationResult.Combine([part, part]));
    }
}
