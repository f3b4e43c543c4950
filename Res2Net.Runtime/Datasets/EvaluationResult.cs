using System.Globalization;

namespace Res2Net.Runtime.Datasets;

/// <summary>How far an evaluation has got; reported after every batch.</summary>
/// <param name="Done">Images handled so far, skipped ones included.</param>
/// <param name="Total">Images in the dataset.</param>
/// <param name="Skipped">Images that could not be decoded so far.</param>
/// <param name="Elapsed">Time since the evaluation started.</param>
public readonly record struct EvaluationProgress(int Done, int Total, int Skipped, TimeSpan Elapsed);

/// <summary>An image the evaluation could not read, and why.</summary>
public sealed record SkippedImage(string Path, string RelativePath, string Reason)
{
    /// <summary>The image's position in the dataset's listing (<see cref="DatasetSample.Index"/>).</summary>
    public int Index { get; init; }
}

/// <summary>One evaluated image: its label and the network's top-k labels with their softmax scores, best first.</summary>
public sealed record SampleResult(string RelativePath, int Label, int[] TopK, float[] Scores)
{
    /// <summary>The image's position in the dataset's listing (<see cref="DatasetSample.Index"/>).</summary>
    public int Index { get; init; }

    /// <summary>The predicted label (top-1).</summary>
    public int PredLabel => TopK[0];

    /// <summary>True when the label is among the first <paramref name="k"/> predictions.</summary>
    public bool IsCorrect(int k) => Array.IndexOf(TopK, Label, 0, Math.Min(k, TopK.Length)) >= 0;
}

/// <summary>
/// Top-1 and top-5 accuracy as mmpretrain's <c>Accuracy(topk=(1, 5))</c> metric computes them: the percentage of
/// evaluated images whose label is the best prediction, or among the best five. Images that could not be decoded are
/// not counted (mmpretrain would stop at them); they are listed in <see cref="Skipped"/>.
/// </summary>
public sealed class EvaluationResult
{
    /// <summary>A result from its parts: what <see cref="DatasetEvaluator.Evaluate"/> returns, or one read back from a results file.</summary>
    /// <param name="total">Images in the dataset (or shard): evaluated plus skipped.</param>
    /// <param name="samples">The evaluated images, in dataset order.</param>
    /// <param name="skipped">The images that could not be read, in dataset order.</param>
    /// <param name="elapsed">Wall-clock time of the evaluation.</param>
    /// <param name="numClasses">Classes of the network (0 when not known, as for a result read back from a file).</param>
    /// <param name="logits">Every evaluated image's logits, or null.</param>
    public EvaluationResult(int total, IReadOnlyList<SampleResult> samples, IReadOnlyList<SkippedImage> skipped, TimeSpan elapsed,
        int numClasses, float[]? logits)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(skipped);
        Total = total;
        Samples = samples;
        Skipped = skipped;
        Elapsed = elapsed;
        NumClasses = numClasses;
        Logits = logits;
        Top1Correct = samples.Count(s => s.IsCorrect(1));
        Top5Correct = samples.Count(s => s.IsCorrect(5));
    }

    /// <summary>
    /// The results of the shards of one listing (<see cref="ImageDataset.Shard"/>) as one: samples and skipped images
    /// back in listing order (by their <c>Index</c>), counts added, so the accuracy is the unsharded run's exactly (the
    /// logits of an image do not depend on the batch it ran in). <see cref="Elapsed"/> is the sum of the shards' times,
    /// the compute spent; <see cref="Logits"/> is kept only when every shard kept its own.
    /// </summary>
    /// <exception cref="ArgumentException">No shards, or two of them hold the same image (an index twice).</exception>
    public static EvaluationResult Combine(IReadOnlyList<EvaluationResult> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0) throw new ArgumentException("no shards to combine", nameof(shards));
        var order = shards.SelectMany((shard, s) => shard.Samples.Select((sample, i) => (sample, s, i))).OrderBy(x => x.sample.Index).ToList();
        var skipped = shards.SelectMany(s => s.Skipped).OrderBy(s => s.Index).ToList();
        var indices = order.Select(x => x.sample.Index).Concat(skipped.Select(s => s.Index)).ToList();
        if (indices.Count != indices.Distinct().Count())
            throw new ArgumentException("two shards hold the same image (an index appears twice)", nameof(shards));
        float[]? logits = null;
        int classes = shards[0].NumClasses;
        if (classes > 0 && shards.All(s => s.Logits != null && s.NumClasses == classes))
        {
            logits = new float[order.Count * classes];
            for (int k = 0; k < order.Count; k++)
                shards[order[k].s].Logits.AsSpan(order[k].i * classes, classes).CopyTo(logits.AsSpan(k * classes, classes));
        }
        return new EvaluationResult(shards.Sum(s => s.Total), order.Select(x => x.sample).ToList(), skipped,
            TimeSpan.FromTicks(shards.Sum(s => s.Elapsed.Ticks)), classes, logits);
    }

    /// <summary>Images in the dataset.</summary>
    public int Total { get; }

    /// <summary>Images decoded and classified.</summary>
    public int Evaluated => Samples.Count;

    /// <summary>Images whose label is the top prediction.</summary>
    public int Top1Correct { get; }

    /// <summary>Images whose label is among the top five predictions (all of them when the network has fewer classes).</summary>
    public int Top5Correct { get; }

    /// <summary>Top-1 accuracy in percent (NaN when no image was evaluated).</summary>
    public double Top1 => Evaluated == 0 ? double.NaN : 100.0 * Top1Correct / Evaluated;

    /// <summary>Top-5 accuracy in percent (NaN when no image was evaluated).</summary>
    public double Top5 => Evaluated == 0 ? double.NaN : 100.0 * Top5Correct / Evaluated;

    /// <summary>Per evaluated image, in dataset order.</summary>
    public IReadOnlyList<SampleResult> Samples { get; }

    /// <summary>Images that could not be read or decoded, in dataset order.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Wall-clock time of the whole evaluation, decoding included.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Evaluated images per second of <see cref="Elapsed"/>.</summary>
    public double ImagesPerSecond => Elapsed.TotalSeconds > 0 ? Evaluated / Elapsed.TotalSeconds : 0;

    /// <summary>Classes of the network.</summary>
    public int NumClasses { get; }

    /// <summary>With <see cref="DatasetEvaluator.KeepLogits"/>: every evaluated image's logits, <c>[Evaluated, NumClasses]</c>, in <see cref="Samples"/> order; else null.</summary>
    public float[]? Logits { get; }

    /// <summary>The metrics as mmpretrain's test log prints them: <c>accuracy/top1: 78.1400  accuracy/top5: 94.0100</c>.</summary>
    public string FormatMetrics() => $"accuracy/top1: {Format(Top1)}  accuracy/top5: {Format(Top5)}";

    private static string Format(double percent) =>
        double.IsNaN(percent) ? "n/a" : percent.ToString("0.0000", CultureInfo.InvariantCulture);
}
