using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Datasets;

/// <summary>
/// mmpretrain's <c>tools/test.py</c> for a classifier: runs every image of an <see cref="ImageDataset"/> through the
/// network's test pipeline and the network, and computes top-1 and top-5 accuracy.
/// Images are decoded and preprocessed on a separate thread, up to <see cref="Prefetch"/> batches ahead of the forward
/// (a bounded queue), so decoding overlaps the network. An image that cannot be read or decoded is recorded in
/// <see cref="EvaluationResult.Skipped"/> with the reason, and the evaluation goes on.
/// </summary>
public sealed class DatasetEvaluator
{
    private readonly int _batchSize = 32;
    private readonly int _prefetch = 2;
    private readonly int _decodeThreads = 1;

    /// <param name="network">A network with loaded weights.</param>
    /// <param name="preprocess">The test pipeline; default the network's own (<see cref="NetworkInfo.Preprocess"/>).</param>
    public DatasetEvaluator(CompiledNetwork network, PreprocessConfig? preprocess = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        Preprocessing = preprocess ?? network.Info.Preprocess;
        Preprocessing.Validate();
        if (Preprocessing.CropHeight != network.Info.InputHeight || Preprocessing.CropWidth != network.Info.InputWidth)
        {
            throw new ArgumentException(
                $"the pipeline crops {Preprocessing.CropWidth}x{Preprocessing.CropHeight} but {network.Info.Name} takes {network.Info.InputWidth}x{network.Info.InputHeight}",
                nameof(preprocess));
        }
    }

    /// <summary>The top-k the accuracy is computed for besides top-1, as mmpretrain's <c>topk=(1, 5)</c>.</summary>
    public const int TopK = 5;

    public CompiledNetwork Network { get; }

    public PreprocessConfig Preprocessing { get; }

    /// <summary>Images per forward. Default 32.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "at least 1");
    }

    /// <summary>Batches decoded ahead of the forward (the capacity of the queue between the threads). Default 2.</summary>
    public int Prefetch
    {
        get => _prefetch;
        init => _prefetch = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Prefetch), value, "at least 1");
    }

    /// <summary>Images of a batch decoded at once on the decoding side. Default 1 (one decoding thread beside the forward's).</summary>
    public int DecodeThreads
    {
        get => _decodeThreads;
        init => _decodeThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DecodeThreads), value, "at least 1");
    }

    /// <summary>
    /// Keep every image's logits in <see cref="EvaluationResult.Logits"/> (Evaluated × classes floats); with
    /// <see cref="FlipTta"/>, those of the image as the test pipeline gives it (not of its mirror). Default false.
    /// </summary>
    public bool KeepLogits { get; init; }

    /// <summary>
    /// mmpretrain's <c>tools/test.py --tta</c> with its default flip TTA: each image's crop and its left-right mirror are
    /// classified and their softmax scores averaged (<c>AverageClsScoreTTA</c>); top-1 and top-5 come from the average.
    /// mmpretrain mirrors after <c>CenterCrop</c> (its TTA pipeline replaces only the final <c>PackInputs</c>), so the
    /// mirror is made from the preprocessed crop: no second decode, and the pair goes through one forward. The order
    /// matters: when the margin around the crop is odd, the centre crop sits half a pixel off centre (its offset is
    /// rounded), so the crop of the mirrored image is one column away from the mirror of the crop. Default false.
    /// </summary>
    public bool FlipTta { get; init; }

    /// <summary>Evaluates <paramref name="dataset"/>; <paramref name="progress"/> hears after each batch, on the calling thread.</summary>
    /// <exception cref="DatasetException">A label is out of range for the network, or the class folders do not match its classes.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public EvaluationResult Evaluate(ImageDataset dataset, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var info = Network.Info;
        if (!Network.IsLoaded) throw new InvalidOperationException($"{info.Name}: no weights are loaded; call Load(checkpoint) first.");
        dataset.CheckLabels(info.NumClasses, info.Name);

        var samples = dataset.Samples;
        int total = samples.Count, elements = info.InputElements, classes = info.NumClasses;
        var clock = Stopwatch.StartNew();
        var results = new List<SampleResult>(total);
        var skipped = new List<SkippedImage>();
        var kept = KeepLogits ? new List<float>() : null;
        int views = FlipTta ? 2 : 1;
        var logits = new float[views * BatchSize * classes];
        progress?.Report(new EvaluationProgress(0, total, 0, TimeSpan.Zero));

        // Buffers cycle between the threads: one filling, up to Prefetch queued, one in the forward.
        using var free = new BlockingCollection<float[]>();
        for (int i = 0; i < Prefetch + 2; i++) free.Add(new float[views * BatchSize * elements]);
        using var ready = new BlockingCollection<DecodedBatch>(Prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? producerFailure = null;

        var producer = new Thread(() =>
        {
            try
            {
                for (int start = 0; start < total; start += BatchSize)
                {
                    var buffer = free.Take(stop.Token);
                    var batch = Decode(samples, start, Math.Min(BatchSize, total - start), buffer, elements);
                    if (FlipTta) AppendMirrors(batch.Buffer, batch.Valid.Count, info.InputHeight, info.InputWidth);
                    ready.Add(batch, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                producerFailure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                ready.CompleteAdding();
            }
        })
        { IsBackground = true, Name = "res2net dataset decoder" };
        producer.Start();

        try
        {
            int done = 0;
            foreach (var batch in ready.GetConsumingEnumerable(stop.Token))
            {
                int n = batch.Valid.Count;
                if (n > 0) Network.Forward(batch.Buffer.AsSpan(0, views * n * elements), views * n, logits.AsSpan(0, views * n * classes));
                for (int i = 0; i < n; i++)
                {
                    var row = logits.AsSpan(i * classes, classes);
                    float[] scores = FlipTta ? AverageScores(row, logits.AsSpan((n + i) * classes, classes)) : Prediction.Softmax(row);
                    // Ranked by the scores: with TTA there are no logits of the average (softmax itself is monotonic).
                    int[] top = Prediction.TopIndices(FlipTta ? scores : row, TopK);
                    var sample = batch.Valid[i];
                    results.Add(new SampleResult(sample.RelativePath, sample.Label, top, top.Select(t => scores[t]).ToArray()) { Index = sample.Index });
                    if (kept != null) foreach (float v in row) kept.Add(v);
                }
                skipped.AddRange(batch.Skipped);
                free.Add(batch.Buffer);
                done += n + batch.Skipped.Count;
                progress?.Report(new EvaluationProgress(done, total, skipped.Count, clock.Elapsed));
            }
            producerFailure?.Throw();
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }
        clock.Stop();
        return new EvaluationResult(total, results, skipped, clock.Elapsed, classes, kept?.ToArray());
    }

    /// <summary>Decodes samples [start, start + count) into <paramref name="buffer"/>, the readable ones packed at its front.</summary>
    private DecodedBatch Decode(IReadOnlyList<DatasetSample> samples, int start, int count, float[] buffer, int elements)
    {
        var reasons = new string?[count];
        void One(int i)
        {
            var sample = samples[start + i];
            try
            {
                Preprocessor.Run(sample.Path, Preprocessing, buffer.AsSpan(i * elements, elements));
            }
            catch (ImageDecodeException e)
            {
                reasons[i] = e.Reason;
            }
        }

        if (DecodeThreads == 1)
        {
            for (int i = 0; i < count; i++) One(i);
        }
        else
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = DecodeThreads }, One);
        }

        var valid = new List<DatasetSample>(count);
        var skipped = new List<SkippedImage>();
        for (int i = 0; i < count; i++)
        {
            var sample = samples[start + i];
            if (reasons[i] is { } reason)
            {
                skipped.Add(new SkippedImage(sample.Path, sample.RelativePath, reason) { Index = sample.Index });
                continue;
            }
            if (valid.Count != i) buffer.AsSpan(i * elements, elements).CopyTo(buffer.AsSpan(valid.Count * elements, elements));
            valid.Add(sample);
        }
        return new DecodedBatch(buffer, valid, skipped);
    }

    /// <summary>
    /// Writes the left-right mirror of each of the first <paramref name="count"/> crops (CHW) after them: crop i's mirror
    /// lands at <paramref name="count"/> + i, so the batch's originals and mirrors go through the network as one batch.
    /// </summary>
    private static void AppendMirrors(float[] buffer, int count, int height, int width)
    {
        int elements = 3 * height * width;
        for (int i = 0; i < count; i++)
        {
            var source = buffer.AsSpan(i * elements, elements);
            var mirror = buffer.AsSpan((count + i) * elements, elements);
            source.CopyTo(mirror);
            for (int row = 0; row < 3 * height; row++) mirror.Slice(row * width, width).Reverse();
        }
    }

    /// <summary>
    /// <c>AverageClsScoreTTA</c>: the mean of the two views' softmax scores, summed in float32 as PyTorch does
    /// (<c>sum(scores) / 2</c>; two terms, so their order does not change the float result).
    /// </summary>
    private static float[] AverageScores(ReadOnlySpan<float> logits, ReadOnlySpan<float> mirrorLogits)
    {
        float[] scores = Prediction.Softmax(logits);
        float[] mirror = Prediction.Softmax(mirrorLogits);
        for (int c = 0; c < scores.Length; c++) scores[c] = (mirror[c] + scores[c]) / 2;
        return scores;
    }

    private sealed record DecodedBatch(float[] Buffer, List<DatasetSample> Valid, List<SkippedImage> Skipped);
}
